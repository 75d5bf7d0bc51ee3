// Creates the session table the peers use (hash key `id`, S, PAY_PER_REQUEST) and waits until it is
// ACTIVE; an existing table is fine. Usage: node create-table.mjs <table>. Uses AWS_* from the env.
import {
  DynamoDBClient,
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';

const table = process.argv[2];
if (!table) {
  console.error('usage: node create-table.mjs <table>');
  process.exit(2);
}
const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB || process.env.AWS_ENDPOINT_URL;
const client = new DynamoDBClient(endpoint ? { endpoint } : {});
try {
  await client.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
} catch (err) {
  if (!(err instanceof ResourceInUseException)) throw err;
}
for (let i = 0; i < 100; i++) {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
  if (Table?.TableStatus === 'ACTIVE') process.exit(0);
  await new Promise((r) => setTimeout(r, 100));
}
console.error(`table ${table} did not become ACTIVE`);
process.exit(1);
