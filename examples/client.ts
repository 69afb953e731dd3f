// The typed client in use (README "Typed client"): create a programme, a certification in it, and list
// the programme's certifications. Run: API=http://localhost:3000 TOKEN=… node --import tsx examples/client.ts
import { accreditClient } from '@accredit/client';

const api = accreditClient({ baseUrl: process.env.API ?? 'http://localhost:3000', token: process.env.TOKEN });
const tenantId = process.env.TENANT ?? 'demo';

const program = await api.POST('/programs/{tenantId}', { params: { path: { tenantId } }, body: { name: 'Registered Nurse' } });
if (!program.data) throw new Error(`create programme: ${JSON.stringify(program.error)}`);
const programId = program.data.id!; // records always carry their id (optional in the schema because of projections)
console.log(`programme ${programId}: ${program.data.name}`);

const cert = await api.POST('/certifications/{tenantId}', {
  params: { path: { tenantId } },
  body: { number: 1001, name: 'Ada Lovelace', contact_id: 'c-ada', program_id: programId, status: 'active', expiration_date: '2027-06-30' },
});
if (!cert.data) throw new Error(`create certification: ${JSON.stringify(cert.error)}`);

const list = await api.GET('/certifications/{tenantId}/program/{value}', { params: { path: { tenantId, value: programId } } });
if (!list.data) throw new Error(`list: ${JSON.stringify(list.error)}`);
for (const c of list.data.Items) console.log(`certificate ${c.number} ${c.name} ${c.status} until ${c.expiration_date}`);
