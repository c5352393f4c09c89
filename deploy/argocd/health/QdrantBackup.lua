-- Succeeded is Healthy, Failed Degraded; waiting (a Secret, its turn) and running are Progressing, and
-- so is a deleted backup whose data S3 Object Lock still keeps (DataDeleted False, "Locked until …").
local early = unsettled()
if early ~= nil then return early end
local ready = condition("Ready")
local deleted = condition("DataDeleted")
if obj.metadata.deletionTimestamp ~= nil and deleted ~= nil and deleted.status == "False" then return result("Progressing", deleted.message) end
local phase = obj.status.phase
if phase == "Succeeded" then return result("Healthy", ready.message) end
if phase == "Failed" then return result("Degraded", ready.message) end
return result("Progressing", ready.message)
