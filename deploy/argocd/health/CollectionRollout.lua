-- As Argo Rollouts: promoted and past its analysis is Healthy, waiting for a manual promotion is
-- Suspended, failed, rolled back or aborted is Degraded, everything on the way is Progressing.
local early = unsettled()
if early ~= nil then return early end
local ready = condition("Ready")
local phase = obj.status.phase
if phase == "Promoted" then
  if ready.status == "True" then return result("Healthy", ready.message) end
  if ready.reason == "Analyzing" then return result("Progressing", ready.message) end
  return result("Degraded", ready.message)
end
if phase == "AwaitingPromotion" then return result("Suspended", ready.message) end
if phase == "Failed" or phase == "RolledBack" or phase == "Aborted" then return result("Degraded", ready.message) end
return result("Progressing", ready.message)
