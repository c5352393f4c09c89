-- Restored (Once), watching (IfMissing) or a drill that verified: Healthy. A failed run, or a drill
-- whose last run did not verify (Verified False): Degraded. Running, or waiting for what may appear:
-- Progressing.
local early = unsettled()
if early ~= nil then return early end
local ready = condition("Ready")
local failed = condition("Failed")
if obj.status.phase == "Failed" then return result("Degraded", (failed ~= nil and failed.status == "True" and failed.message) or ready.message) end
local verified = condition("Verified")
if verified ~= nil and verified.status == "False" then return result("Degraded", verified.message) end
if obj.status.phase == "Running" then return result("Progressing", ready.message) end
if ready.status == "True" then return result("Healthy", ready.message) end
return result("Progressing", ready.message)
