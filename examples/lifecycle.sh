#!/usr/bin/env bash
# The certification lifecycle end to end (README "Running a programme"). Needs: API (server URL) and
# TOKEN (a token for tenant demo, e.g. npm run -s token -- --tenant demo --scope certifications:admin).
set -e
j() { node -pe "const v=JSON.parse(require('fs').readFileSync(0)); $1"; }
H=(-H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json")
# 1. the rules: a one-year anniversary term, 30 days of grace, reinstatement up to 90 days after
RS=$(curl -s "${H[@]}" -X POST $API/expirationRuleSets/demo -d '{"name":"One year","default_expiration_options":{
  "expiration_type":"anniversary","anniversary_expiration_options":{"term_length":1,"term_type":"years","allow_mid_month_expirations":true},
  "grace_period":30,"allow_reinstatement":true,"reinstatement_options":{"reinstatement_period":90}}}' | j v.id)
# 2. the programme, numbered from 1000
PROG=$(curl -s "${H[@]}" -X POST $API/programs/demo -d '{"name":"Registered Nurse","expiration_rule_set_id":"'$RS'","next_certification_number":1000}' | j v.id)
# 3. what an initial application needs: 10 CE hours
CE=$(curl -s "${H[@]}" -X POST $API/creditTypes/demo -d '{"name":"CE hours"}' | j v.id)
INIT=$(curl -s "${H[@]}" -X POST $API/applicationProcesses/demo -d '{"name":"Initial","type":"certification","program_id":"'$PROG'",
  "credit_requirements":[{"credit_type_id":"'$CE'","quantity":10}]}' | j v.id)
RENEW=$(curl -s "${H[@]}" -X POST $API/applicationProcesses/demo -d '{"name":"Renewal","type":"renewal","program_id":"'$PROG'","auto_approve":true}' | j v.id)
REIN=$(curl -s "${H[@]}" -X POST $API/applicationProcesses/demo -d '{"name":"Reinstatement","type":"reinstatement","program_id":"'$PROG'","auto_approve":true}' | j v.id)
# 4. the nurse's verified credits
curl -s "${H[@]}" -X POST $API/credits/demo -d '{"contact_id":"nurse-1","type_id":"'$CE'","origin":"legacy system","quantity":12,"status":"verified","date":"2026-01-10"}' > /dev/null
# 5. apply: draft -> requirements -> submit (consumes 10 hours) -> approve -> activate
APP=$(curl -s "${H[@]}" -X POST $API/applications/demo/generateApplication/$INIT/contact/nurse-1 -d '{"first_name":"Ada","last_name":"Lovelace"}' | j v.id)
curl -s "${H[@]}" $API/applications/demo/requirements/$APP | j 'v.met + " " + JSON.stringify(v.requirements[0])'
curl -s "${H[@]}" -X POST $API/applications/demo/submit/$APP | j v.status
curl -s "${H[@]}" -X POST $API/applications/demo/approve/$APP -d '{"decision_notes":"file complete"}' | j v.status
CERT=$(curl -s "${H[@]}" -X POST $API/applications/demo/activate/$APP | j v.certification.id)
curl -s "${H[@]}" "$API/certifications/demo/$CERT?fields=number,status,expiration_date,grace_period_end_date" ; echo
# 6. renew: extends from the current expiration date
R=$(curl -s "${H[@]}" -X POST $API/applications/demo/generateApplication/$RENEW/contact/nurse-1 -d '{"certification_id":"'$CERT'"}' | j v.id)
curl -s "${H[@]}" -X POST $API/applications/demo/submit/$R | j v.status
curl -s "${H[@]}" -X POST $API/applications/demo/activate/$R | j 'v.certification.number + " " + v.certification.expiration_date'
# 7. let it lapse on its own (here: pretend it expired 60 days ago, past its 30 days of grace): the record
#    and verify say so at once; the lifecycle sweep (hourly, or now) makes it inactive; then reinstate it
LAPSED=$(date -u -d '60 days ago' +%F); GRACE=$(date -u -d '30 days ago' +%F)
curl -s "${H[@]}" -X PATCH $API/certifications/demo/$CERT -d '[{"op":"replace","path":"/expiration_date","value":"'$LAPSED'"},
  {"op":"replace","path":"/grace_period_end_date","value":"'$GRACE'"}]' | j 'v.status + " " + v.standing'   # active lapsed_reinstatable
curl -s $API/public/verify/demo/$PROG/1000 | j 'v.valid + " " + v.status + " " + v.standing'              # false inactive lapsed_reinstatable
SWEEP=$(curl -s "${H[@]}" -X POST $API/certifications/demo/lifecycleSweep | j v.executionArn); sleep 1
curl -s "${H[@]}" $API/executions/demo/$SWEEP | j 'v.status + " " + JSON.stringify(v.output)'           # SUCCEEDED {"lapsed":1,…}
curl -s "${H[@]}" "$API/certifications/demo/$CERT?fields=status,standing" ; echo                          # inactive, history via lifecycle
X=$(curl -s "${H[@]}" -X POST $API/applications/demo/generateApplication/$REIN/contact/nurse-1 -d '{"certification_id":"'$CERT'"}' | j v.id)
curl -s "${H[@]}" -X POST $API/applications/demo/submit/$X > /dev/null
curl -s "${H[@]}" -X POST $API/applications/demo/activate/$X | j 'v.certification.status + " until " + v.certification.expiration_date'
# 8. transfer it to another programme: a new certification there, the old one retired
PROG2=$(curl -s "${H[@]}" -X POST $API/programs/demo -d '{"name":"Nurse Practitioner","expiration_rule_set_id":"'$RS'","next_certification_number":5000}' | j v.id)
MOVE=$(curl -s "${H[@]}" -X POST $API/applicationProcesses/demo -d '{"name":"Transfer","type":"transfer","program_id":"'$PROG'","auto_approve":true}' | j v.id)
T=$(curl -s "${H[@]}" -X POST $API/applications/demo/generateApplication/$MOVE/contact/nurse-1 -d '{"certification_id":"'$CERT'","target_program_id":"'$PROG2'"}' | j v.id)
curl -s "${H[@]}" -X POST $API/applications/demo/submit/$T > /dev/null
curl -s "${H[@]}" -X POST $API/applications/demo/activate/$T | j 'v.certification.number + " in " + v.certification.program_id'
# 9. everything that happened to the first certification, newest first
curl -s "${H[@]}" $API/certifications/demo/history/$CERT | j 'v.Items.map(e => e.via + " " + Object.keys(e.changes).join(",")).join("\n")'
