// The models "on disk": what /api/tags, /api/show and /v1/models describe, what
// pull and create add and copy/delete change, and the blob store behind them
// (layers by digest). Shapes follow wire spec §4 exactly.

import { localStamp, nowNs } from "./clock.ts";
import { displayName, nameKey, parseName, type ModelName } from "./names.ts";
import type { SimModelSpec } from "./types.ts";

/** A manifest layer; `digest` is 64 hex characters. */
export interface Layer {
  mediaType: string;
  digest: string;
  size: number;
}

export const MEDIA = {
  model: "application/vnd.ollama.image.model",
  template: "application/vnd.ollama.image.template",
  system: "application/vnd.ollama.image.system",
  license: "application/vnd.ollama.image.license",
  params: "application/vnd.ollama.image.params",
  messages: "application/vnd.ollama.image.messages",
  config: "application/vnd.docker.container.image.v1+json",
} as const;

export interface ModelEntry {
  key: string;
  name: ModelName;
  display: string;
  kind: "chat" | "embed";
  loadMs: number | undefined;
  size: number;
  digest: string;
  family: string;
  parameterSize: string;
  quantization: string;
  contextLength: number;
  embeddingLength: number;
  capabilities: string[];
  /** The manifest's layers, config last. */
  layers: Layer[];
  /** Manifest mtime in nanoseconds. */
  modifiedNs: bigint;
}

export const DEFAULT_MODELS: SimModelSpec[] = [
  { name: "llama3.2", family: "llama", parameterSize: "3.2B", size: 2019393189, contextLength: 131072, embeddingLength: 3072 },
  { name: "qwen2.5:0.5b", family: "qwen2", parameterSize: "494.03M", size: 397821319, contextLength: 32768, embeddingLength: 896 },
  { name: "mistral", family: "llama", parameterSize: "7.2B", quantization: "Q4_0", size: 4113301824, contextLength: 32768, embeddingLength: 4096 },
  { name: "nomic-embed-text", kind: "embed", family: "nomic-bert", parameterSize: "137M", quantization: "F16", size: 274302450, contextLength: 2048, embeddingLength: 768 },
  // The ones with the capabilities the others lack: thinking, and insert (suffix).
  { name: "qwen3:0.6b", family: "qwen3", parameterSize: "751.63M", size: 522653767, contextLength: 40960, embeddingLength: 1024, capabilities: ["completion", "tools", "thinking"] },
  { name: "qwen2.5-coder:0.5b", family: "qwen2", parameterSize: "494.03M", size: 397821388, contextLength: 32768, embeddingLength: 896, capabilities: ["completion", "tools", "insert"] },
];

/** Models /api/pull can fetch besides the defaults. */
export const PULLABLE: SimModelSpec[] = [
  ...DEFAULT_MODELS,
  { name: "llama3.1", family: "llama", parameterSize: "8.0B", size: 4920753328, contextLength: 131072, embeddingLength: 4096 },
  { name: "gemma2:2b", family: "gemma2", parameterSize: "2.6B", size: 1629518495, contextLength: 8192, embeddingLength: 2304 },
  { name: "phi3", family: "phi3", parameterSize: "3.8B", size: 2176178913, contextLength: 131072, embeddingLength: 3072 },
  { name: "all-minilm", kind: "embed", family: "bert", parameterSize: "23M", quantization: "F16", size: 45960996, contextLength: 512, embeddingLength: 384 },
];

export function sha256Hex(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex");
}

/** A pulled model's layers: weights, template, params, config. */
function specLayers(key: string, size: number): Layer[] {
  return [
    { mediaType: MEDIA.model, digest: sha256Hex(`weights:${key}`), size },
    { mediaType: MEDIA.template, digest: sha256Hex(`template:${key}`), size: 1429 },
    { mediaType: MEDIA.params, digest: sha256Hex(`params:${key}`), size: 487 },
    { mediaType: MEDIA.config, digest: sha256Hex(`config:${key}`), size: 485 },
  ];
}

export function entryFromSpec(spec: SimModelSpec, modifiedNs: bigint): ModelEntry {
  const name = parseName(spec.name);
  if (!name) throw new Error(`simulator: invalid model name ${JSON.stringify(spec.name)}`);
  const kind = spec.kind ?? "chat";
  const size = spec.size ?? 1_000_000_000;
  return {
    key: nameKey(name),
    name,
    display: displayName(name),
    kind,
    loadMs: spec.loadMs,
    size,
    digest: sha256Hex(`manifest:${nameKey(name)}`),
    family: spec.family ?? "llama",
    parameterSize: spec.parameterSize ?? "1.0B",
    quantization: spec.quantization ?? "Q4_K_M",
    contextLength: spec.contextLength ?? 8192,
    embeddingLength: spec.embeddingLength ?? (kind === "embed" ? 768 : 2048),
    capabilities: spec.capabilities ?? (kind === "embed" ? ["embedding"] : ["completion", "tools"]),
    layers: specLayers(nameKey(name), size),
    modifiedNs,
  };
}

/** The same model under another name, written now (copy, pull, create). */
export function renamed(entry: ModelEntry, name: ModelName): ModelEntry {
  return { ...entry, key: nameKey(name), name, display: displayName(name), modifiedNs: nowNs() };
}

export class Catalogue {
  private readonly entries = new Map<string, ModelEntry>();
  /** Uploaded blobs by their file name (`sha256-<hex>`, as the digest was given). */
  private readonly blobs = new Map<string, number>();

  constructor(specs: SimModelSpec[]) {
    // The first spec is the newest, so /api/tags lists them in the given order.
    const now = nowNs();
    specs.forEach((spec, i) => this.add(entryFromSpec(spec, now - BigInt(i + 1) * 3_600_000_000_000n)));
  }

  add(entry: ModelEntry): void {
    this.entries.set(entry.key, entry);
  }

  remove(key: string): void {
    this.entries.delete(key);
  }

  /** Looks a request's model string up; null when unknown or invalid. */
  find(raw: string): ModelEntry | null {
    const name = parseName(raw);
    return name ? (this.entries.get(nameKey(name)) ?? null) : null;
  }

  /** A blob on disk: uploaded, or a layer of a model. `digest` is `sha256:<hex>` or `sha256-<hex>`. */
  blobSize(digest: string): number | undefined {
    const file = digest.replace(":", "-");
    const uploaded = this.blobs.get(file);
    if (uploaded !== undefined) return uploaded;
    for (const entry of this.entries.values()) {
      const layer = entry.layers.find((l) => `sha256-${l.digest}` === file);
      if (layer) return layer.size;
    }
    return undefined;
  }

  addBlob(digest: string, size: number): void {
    this.blobs.set(digest.replace(":", "-"), size);
  }

  /** Newest first, as /api/tags sorts. */
  list(): ModelEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.modifiedNs < b.modifiedNs ? 1 : a.modifiedNs > b.modifiedNs ? -1 : 0));
  }
}

export function supports(entry: ModelEntry, capability: string): boolean {
  return entry.capabilities.includes(capability);
}

function details(entry: ModelEntry): Record<string, unknown> {
  return {
    parent_model: "",
    format: "gguf",
    family: entry.family,
    families: [entry.family],
    parameter_size: entry.parameterSize,
    quantization_level: entry.quantization,
  };
}

export function tagsEntry(entry: ModelEntry): Record<string, unknown> {
  return {
    name: entry.display,
    model: entry.display,
    modified_at: localStamp(entry.modifiedNs),
    size: entry.size,
    digest: entry.digest,
    details: { ...details(entry), context_length: entry.contextLength, embedding_length: entry.embeddingLength },
    capabilities: entry.capabilities,
  };
}

export function psEntry(entry: ModelEntry, expiresNs: bigint, contextLength: number): Record<string, unknown> {
  return {
    name: entry.display,
    model: entry.display,
    size: entry.size,
    digest: entry.digest,
    details: details(entry),
    expires_at: localStamp(expiresNs),
    size_vram: entry.size,
    context_length: contextLength,
  };
}

export function showReply(entry: ModelEntry): Record<string, unknown> {
  const template = entry.kind === "embed" ? "{{ .Prompt }}" : "{{ if .System }}{{ .System }}\n{{ end }}{{ .Prompt }}";
  return {
    modelfile: `# Modelfile generated by "ollama show"\nFROM ${entry.display}\nTEMPLATE """${template}"""\n`,
    parameters: entry.kind === "embed" ? "num_ctx                        " + entry.contextLength : 'stop                           "<|eot_id|>"',
    template,
    details: details(entry),
    model_info: {
      "general.architecture": entry.family,
      "general.parameter_count": Math.round(parseFloat(entry.parameterSize) * (entry.parameterSize.endsWith("M") ? 1e6 : 1e9)),
      [`${entry.family}.context_length`]: entry.contextLength,
      [`${entry.family}.embedding_length`]: entry.embeddingLength,
    },
    capabilities: entry.capabilities,
    modified_at: localStamp(entry.modifiedNs),
  };
}

export function openAIModel(entry: ModelEntry, id: string = entry.display): Record<string, unknown> {
  return { id, object: "model", created: Number(entry.modifiedNs / 1_000_000_000n), owned_by: entry.name.namespace };
}
