-- Shared by every kind: deploy/argocd/generate.ts puts this in front of each kind's script.
-- Argo CD runs the script with the resource as the global `obj` and reads the table it returns.
local function result(status, message)
  return { status = status, message = message or "" }
end

local function condition(kind)
  if obj.status == nil or obj.status.conditions == nil then return nil end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == kind then return c end
  end
  return nil
end

-- Before the kind's own rules: nothing from the operator yet, a spec it refused, or a spec edit it has
-- not judged (Ready still speaks of an older generation).
local function unsettled()
  local ready = condition("Ready")
  local accepted = condition("Accepted")
  if accepted ~= nil and accepted.status == "False" then return result("Degraded", accepted.message) end
  if ready == nil then return result("Progressing", "Waiting for the operator to report on this resource") end
  local generation = obj.metadata and obj.metadata.generation
  if generation ~= nil and ready.observedGeneration ~= nil and ready.observedGeneration < generation then
    return result("Progressing", "Waiting for the operator to observe generation " .. tostring(generation))
  end
  return nil
end
