// Checks docs/asyncapi.yaml against the Kafka topics of the code: the
// channels are exactly the topics provisiond produces to or consumes from,
// each with the operations that say so (AsyncAPI 2: `subscribe` — provisiond
// produces, `publish` — provisiond consumes), every message reference
// resolves, and the enums of commands and events are the code's. The code's
// side comes from the kafka_topics program (tests/openapi/kafka_topics.cpp),
// which asks the same functions provisiond uses.
//
//   node check_asyncapi.mjs <kafka_topics binary> <asyncapi.yaml>
//
// Prints one line per problem and exits 1 if there is any.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parse } from "yaml";

const [topicsBinary, file] = process.argv.slice(2);
if (!topicsBinary || !file) {
  console.error("usage: node check_asyncapi.mjs <kafka_topics> <asyncapi.yaml>");
  process.exit(2);
}

const code = JSON.parse(execFileSync(topicsBinary, { encoding: "utf8" }));
const doc = parse(readFileSync(file, "utf8"));
const problems = [];
const same = (what, got, want) => {
  if (JSON.stringify(got) !== JSON.stringify(want))
    problems.push(`${what}: the document has ${JSON.stringify(got)}, the code ${JSON.stringify(want)}`);
};

if (doc?.asyncapi !== "2.6.0") problems.push(`asyncapi is ${JSON.stringify(doc?.asyncapi)}, expected "2.6.0"`);
const channels = doc?.channels ?? {};
const produced = new Set(code.produced);
const consumed = new Set(code.consumed);
const topics = new Set([...produced, ...consumed]);

for (const topic of topics)
  if (!(topic in channels)) problems.push(`topic ${topic} is used by the code but is no channel of the document`);
for (const [name, channel] of Object.entries(channels)) {
  if (!topics.has(name)) {
    problems.push(`channel ${name} is no topic the code produces to or consumes from`);
    continue;
  }
  if (produced.has(name) !== Boolean(channel?.subscribe))
    problems.push(`channel ${name}: provisiond ${produced.has(name) ? "produces to it: needs" : "does not produce to it: no"} subscribe`);
  if (consumed.has(name) !== Boolean(channel?.publish))
    problems.push(`channel ${name}: provisiond ${consumed.has(name) ? "consumes it: needs" : "does not consume it: no"} publish`);
  for (const op of ["publish", "subscribe"]) {
    const ref = channel?.[op]?.message?.$ref;
    if (!channel?.[op]) continue;
    if (!ref) problems.push(`channel ${name}.${op} has no message $ref`);
    else if (!ref.startsWith("#/components/messages/") || !(ref.split("/").pop() in (doc.components?.messages ?? {})))
      problems.push(`channel ${name}.${op}: ${ref} resolves to nothing`);
  }
}

// Which message each kind of topic carries.
const messageOf = (topic) => channels[topic]?.subscribe?.message?.$ref ?? channels[topic]?.publish?.message?.$ref;
for (const t of code.lifecycleTopics) same(`${t} message`, messageOf(t), "#/components/messages/LifecycleEvent");
same(`${code.journalTopic} message`, messageOf(code.journalTopic), "#/components/messages/JournalRecord");
same(`${code.commandsTopic} message`, messageOf(code.commandsTopic), "#/components/messages/Command");
same(`${code.deadLetterTopic} message`, messageOf(code.deadLetterTopic), "#/components/messages/DeadLetter");
same(`${code.secretsTopic} message`, messageOf(code.secretsTopic), "#/components/messages/SealedSecret");

// The values commands and events carry.
const command = doc.components?.messages?.Command?.payload?.properties ?? {};
same("Command.command enum", command.command?.enum, code.commands);
same("Command.type enum", command.type?.enum, code.requestTypes);
same("Command.provider enum", command.provider?.enum, code.providers);
const data = doc.components?.schemas?.EventData?.properties ?? {};
same("EventData.state enum", data.state?.enum, code.states);
same("EventData.step enum", data.step?.enum, code.steps);

if (problems.length) {
  for (const p of problems) console.log(`FAIL ${p}`);
  console.log(`${problems.length} problems in ${file}`);
  process.exit(1);
}
console.log(`OK ${file}: ${Object.keys(channels).length} channels = the ${topics.size} topics of the code ` +
            `(${produced.size} produced, ${consumed.size} consumed)`);
