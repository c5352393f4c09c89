-- Ready True: the operator reaches this Qdrant; False: it says what to fix (URL, Secret, TLS).
local early = unsettled()
if early ~= nil then return early end
local ready = condition("Ready")
if ready.status == "True" then return result("Healthy", ready.message) end
return result("Degraded", ready.message)
