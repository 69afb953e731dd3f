#!/usr/bin/env bash
# Billing runs end to end (README "Billing runs"). Needs: API (server URL) and TOKEN (a token for
# tenant demo, e.g. npm run -s token -- --tenant demo --scope certifications:admin).
set -e
j() { node -pe "const v=JSON.parse(require('fs').readFileSync(0)); $1"; }
H=(-H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json")
wait_for() { for i in $(seq 1 100); do s=$(curl -s "${H[@]}" $API/executions/demo/$1 | j v.status); [ "$s" != RUNNING ] && echo "$s" && return; sleep 0.2; done; }
# a programme whose renewal costs 150, one certification due in December, one lapsed in May
PROG=$(curl -s "${H[@]}" -X POST $API/programs/demo -d '{"name":"Registered Nurse"}' | j v.id)
FEE=$(curl -s "${H[@]}" -X POST $API/applicationFees/demo -d '{"name":"Renewal","price":150,"business_unit_id":"bu-1","program_id":"'$PROG'"}' | j v.id)
curl -s "${H[@]}" -X POST $API/applicationProcesses/demo -d '{"name":"Renewal","type":"renewal","program_id":"'$PROG'","application_fee_id":"'$FEE'"}' > /dev/null
curl -s "${H[@]}" -X POST $API/statusReasons/demo -d '{"name":"Dropped","status":"inactive"}' > /dev/null
DUE=$(curl -s "${H[@]}" -X POST $API/certifications/demo -d '{"number":1,"name":"Ann","contact_id":"c-1","program_id":"'$PROG'","status":"active","expiration_date":"2026-12-15"}' | j v.id)
LAPSED=$(curl -s "${H[@]}" -X POST $API/certifications/demo -d '{"number":2,"name":"Bob","contact_id":"c-2","program_id":"'$PROG'","status":"active",
  "expiration_date":"2026-05-01","grace_period_end_date":"2026-05-31"}' | j v.id)
# ---- as in the README
RUN=$(curl -s "${H[@]}" -X POST $API/billingRuns/demo -d '{"name":"July cycle","status":"draft",
  "forecast_renewals":true,"renewal_forecasting_options":{"expiration_date_range_start":"2026-07-01","expiration_date_range_end":"2026-12-31"},
  "perform_drops":true,"drop_options":{"expiration_date_range_start":"2025-01-01","expiration_date_range_end":"2026-06-30"}}' | j v.id)
ARN=$(curl -s "${H[@]}" -X POST $API/billingRuns/demo/refresh/$RUN | j v.executionArn)
wait_for $ARN
curl -s "${H[@]}" $API/executions/demo/$ARN; echo
curl -s "${H[@]}" $API/billingRunActions/demo/billingRun/$RUN | j 'v.Items.map(a => a.type + ": " + a.name + " " + a.status).join("\n")'
curl -s "${H[@]}" $API/billingRuns/demo/$RUN | j 'v.status + " " + JSON.stringify(v.statistics)'
curl -s "${H[@]}" $API/billingRuns/demo/$RUN | j 'v.amounts.map(a => a.type + " x " + a.count + ": " + a.formatted).join("\n")'   # forecast renewal x 1: 150.00 USD
ARN=$(curl -s "${H[@]}" -X POST $API/billingRuns/demo/execute/$RUN | j v.executionArn)
curl -sN --max-time 10 "${H[@]}" $API/executions/demo/$ARN/events | tail -3
curl -s "${H[@]}" "$API/certifications/demo/$DUE?fields=status,forecasted_renewal_amount"; echo
curl -s "${H[@]}" "$API/certifications/demo/$LAPSED?fields=status,status_reason_id,termination_date"; echo
T=$(curl -s "${H[@]}" -X POST $API/billingTemplates/demo -d '{"name":"Monthly drops","perform_drops":true,"drop_options":{
  "expiration_date_range_start":{"position":"before","number":1,"unit_of_time":"years","relative_to":"the beginning of the month"},
  "expiration_date_range_end":{"position":"before","number":1,"unit_of_time":"days","relative_to":"the reference date"}}}' | j v.id)
curl -s "${H[@]}" -X POST $API/billingTemplates/demo/createRun/$T -d '{"run_date":"2026-08-01"}' | j 'JSON.stringify(v.drop_options)'
curl -s "${H[@]}" -X POST $API/recurringBillingRuns/demo -d '{"name":"Monthly","schedule":"0 6 1 * *","pre_processing_lead_time":2,
  "template_id":"'$T'","is_active":true}' | j 'v.name + " " + v.schedule'
