// Runs the same calls through the official Anthropic TypeScript SDK against
// one base URL and prints what the SDK returned, as JSON on stdout. The Go
// test (proxy/app, -tags sdktest) runs it against the fake API directly
// and through Ferry, and compares.
//   node client.mjs BASE_URL API_KEY
import Anthropic from "@anthropic-ai/sdk";

const [baseURL, apiKey] = process.argv.slice(2);
const client = new Anthropic({ baseURL, apiKey, maxRetries: 0, timeout: 60_000 });

const params = {
  model: "claude-sonnet-4-5",
  max_tokens: 1024,
  messages: [{ role: "user", content: "Say hello in Chinese and English." }],
};

const out = {};
out.message = await client.messages.create(params);
const stream = client.messages.stream(params);
const events = [];
stream.on("streamEvent", (e) => events.push(e.type));
out.streamed = await stream.finalMessage();
out.streamEvents = events;
out.countTokens = await client.messages.countTokens(params);
const models = [];
for await (const m of client.models.list({ limit: 2 })) models.push(m.id);
out.models = models;
process.stdout.write(JSON.stringify(out));
