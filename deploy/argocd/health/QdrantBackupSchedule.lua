-- Suspended is Suspended; a spec it cannot run, or a newest finished backup that failed
-- (LastBackupSucceeded False), is Degraded; otherwise Healthy, Ready saying when the next backup is.
local early = unsettled()
if early ~= nil then return early end
local ready = condition("Ready")
if ready.status == "True" and ready.reason == "Suspended" then return result("Suspended", ready.message) end
if ready.status ~= "True" then return result("Degraded", ready.message) end
local last = condition("LastBackupSucceeded")
if last ~= nil and last.status == "False" then return result("Degraded", last.message) end
return result("Healthy", ready.message)
