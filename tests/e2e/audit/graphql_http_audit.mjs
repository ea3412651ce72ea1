// graphql-http's server audit against the GraphQL endpoint given as the only
// argument; prints one JSON line per audit: {"id", "name", "status", "reason"}.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
const results = await auditServer({ url });
for (const result of results) {
  const { id, name, status } = result;
  let reason = null;
  if (status !== 'ok') {
    const body = await result.response.text().catch(() => '');
    reason = `${result.reason} (HTTP ${result.response.status}: ${body.slice(0, 300)})`;
  }
  console.log(JSON.stringify({ id, name, status, reason }));
}
