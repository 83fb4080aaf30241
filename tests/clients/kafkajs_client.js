// kafkajs (pure JavaScript) against a Rill broker: produce COUNT records with acks=all, consume
// them with a consumer group that commits, read the committed offsets back with the admin
// client. Usage: node kafkajs_client.js BOOTSTRAP TOPIC COUNT. Prints one JSON line; exits 1
// on a missing or wrong record.
const path = require("path");
const { Kafka, logLevel } = require(path.resolve(process.env.KAFKAJS_DIR, "node_modules", "kafkajs"));

const [bootstrap, topic, countText] = process.argv.slice(2);
const count = Number(countText);
const kafka = new Kafka({ clientId: "rill-test", brokers: bootstrap.split(","), logLevel: logLevel.NOTHING });
const result = { client: "kafkajs", sent: count };

function fail(why) {
  result.error = why;
  console.log(JSON.stringify(result));
  process.exit(1);
}

(async () => {
  const producer = kafka.producer();
  await producer.connect();
  const messages = [];
  for (let i = 0; i < count; i++) messages.push({ key: `key-${i}`, value: `kafkajs-value-${i}` });
  for (let i = 0; i < messages.length; i += 100) {
    await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 100) });
  }
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: "group-kafkajs", sessionTimeout: 10000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = new Map();
  const done = new Promise((resolve) => {
    consumer.run({
      autoCommit: true,
      eachMessage: async ({ partition, message }) => {
        const key = message.key.toString();
        if (message.value.toString() !== key.replace("key-", "kafkajs-value-")) fail(`${key} has a wrong value`);
        seen.set(key, [partition, message.offset]);
        if (seen.size === count) resolve();
      },
    });
  });
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("timed out")), 60000));
  try {
    await Promise.race([done, timeout]);
  } catch (error) {
    fail(`consumed ${seen.size} of ${count}: ${error.message}`);
  }
  await consumer.disconnect(); // commits what was consumed
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchOffsets({ groupId: "group-kafkajs", topics: [topic] });
  await admin.disconnect();
  const committed = offsets[0].partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  result.consumed = seen.size;
  result.committed_total = committed;
  if (committed !== count) fail(`committed offsets add up to ${committed}, not ${count}`);
  console.log(JSON.stringify(result));
  process.exit(0);
})().catch((error) => fail(String(error && error.stack || error)));
