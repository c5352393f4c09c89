-- Ready True: the bucket, credentials, encryption and Object Lock check out; False: what to fix.
local early = unsettled()
if early ~= nil then return early end
local ready = condition("Ready")
if ready.status == "True" then return result("Healthy", ready.message) end
return result("Degraded", ready.message)
