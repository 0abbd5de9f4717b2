// Request shapes of the target's endpoints, as far as foreman checks them: the model and what
// the endpoint needs to do its work are required, known fields have their types, anything else
// passes through to the target. A job that only loads a model says so explicitly, with Ollama's
// own load idiom: an empty prompt, no messages or no input (ADR 0018).
import { Type, type TProperties } from "@sinclair/typebox";

const Model = Type.String({ minLength: 1, description: "the model name, e.g. llama3.2" });
const KeepAlive = Type.Union([Type.Number(), Type.String()]);
const Options = Type.Record(Type.String(), Type.Unknown());

const request = (props: TProperties) => Type.Object({ model: Model, ...props }, { additionalProperties: true });

/** A multimodal embedding input of newer Ollama releases: the target judges it, foreman only lets it through. */
const MediaInput = Type.Object({ image: Type.String() }, { additionalProperties: true });

const Message = Type.Object({ role: Type.String(), content: Type.Optional(Type.Union([Type.String(), Type.Array(Type.Unknown())])) }, { additionalProperties: true });

export const ChatRequest = request({
  messages: Type.Array(Message, { description: "the conversation; [] only loads the model" }),
  stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  keep_alive: Type.Optional(KeepAlive),
  options: Type.Optional(Options),
  tools: Type.Optional(Type.Array(Type.Unknown())),
});
export const GenerateRequest = request({
  prompt: Type.String({ description: 'the prompt; "" only loads the model' }),
  system: Type.Optional(Type.String()),
  stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  keep_alive: Type.Optional(KeepAlive),
  options: Type.Optional(Options),
});
export const EmbedRequest = request({
  input: Type.Union([Type.String(), Type.Array(Type.Union([Type.String(), MediaInput]))], {
    description: 'the text or texts to embed, or media inputs (Ollama ≥ 0.36: `{"image": base64, "text"?}`); "" or [] only loads the model',
  }),
  truncate: Type.Optional(Type.Boolean()),
  keep_alive: Type.Optional(KeepAlive),
  options: Type.Optional(Options),
});
export const EmbeddingsRequest = request({
  prompt: Type.String({ description: 'the text to embed; "" only loads the model' }),
  keep_alive: Type.Optional(KeepAlive),
  options: Type.Optional(Options),
});
export const OpenAIChatRequest = request({
  messages: Type.Array(Message, { minItems: 1 }),
  stream: Type.Optional(Type.Boolean()),
  max_tokens: Type.Optional(Type.Integer()),
  temperature: Type.Optional(Type.Number()),
});
export const OpenAICompletionsRequest = request({
  prompt: Type.String(),
  stream: Type.Optional(Type.Boolean()),
  max_tokens: Type.Optional(Type.Integer()),
});
export const OpenAIEmbeddingsRequest = request({
  input: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })]),
  encoding_format: Type.Optional(Type.Union([Type.Literal("float"), Type.Literal("base64")])),
  dimensions: Type.Optional(Type.Integer()),
});
export const ResponsesRequest = request({
  input: Type.Union([Type.String(), Type.Array(Type.Unknown())], { description: "the input text, or a list of input items" }),
  instructions: Type.Optional(Type.String()),
  stream: Type.Optional(Type.Boolean()),
  max_output_tokens: Type.Optional(Type.Integer()),
  temperature: Type.Optional(Type.Number()),
  tools: Type.Optional(Type.Array(Type.Unknown())),
});
export const AnthropicMessagesRequest = request({
  max_tokens: Type.Integer({ minimum: 1, description: "required by the Messages API" }),
  messages: Type.Array(Message, { minItems: 1 }),
  system: Type.Optional(Type.Union([Type.String(), Type.Array(Type.Unknown())])),
  stream: Type.Optional(Type.Boolean()),
  tools: Type.Optional(Type.Array(Type.Unknown())),
});
