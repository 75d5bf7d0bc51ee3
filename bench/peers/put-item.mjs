// Puts one session-sized item (20 attributes, about 1.8 KB, like the microbenchmarks' session) under
// the given id, for the load benchmark's dynalite-getitem target. Usage: node put-item.mjs <table> <id>.
// Uses AWS_* from the env.
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';

const [table, id] = process.argv.slice(2);
if (!table || !id) {
  console.error('usage: node put-item.mjs <table> <id>');
  process.exit(2);
}
const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB || process.env.AWS_ENDPOINT_URL;
const client = new DynamoDBClient(endpoint ? { endpoint } : {});
const item = { id: { S: id }, expires: { N: String(Math.floor(Date.now() / 1000) + 3600) } };
for (let i = 0; i < 18; i++) item[`field${i}`] = { S: 'x'.repeat(90) };
await client.send(new PutItemCommand({ TableName: table, Item: item }));
