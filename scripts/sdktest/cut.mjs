// Streams one message through the official TypeScript SDK with the fake
// API's scenario SCENARIO (a stream cut by the road, repaired by Ferry)
// and prints what the SDK raised, as JSON on stdout.
//   node cut.mjs BASE_URL API_KEY SCENARIO
import Anthropic from "@anthropic-ai/sdk";

const [baseURL, apiKey, scenario] = process.argv.slice(2);
const client = new Anthropic({ baseURL, apiKey, maxRetries: 0, timeout: 60_000 });

const out = { text: "" };
try {
  const stream = client.messages.stream(
    {
      model: "claude-sonnet-4-5",
      max_tokens: 1024,
      messages: [{ role: "user", content: "Say hello." }],
    },
    { headers: { "x-fake-scenario": scenario } },
  );
  stream.on("text", (t) => (out.text += t));
  await stream.finalMessage();
  out.completed = true;
} catch (err) {
  out.errorClass = err?.constructor?.name;
  out.isAPIError = err instanceof Anthropic.APIError;
  out.errorType = err?.error?.error?.type ?? err?.error?.type ?? null;
  out.message = String(err?.message ?? err);
}
process.stdout.write(JSON.stringify(out));
