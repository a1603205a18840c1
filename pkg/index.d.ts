/** Where the model runs. */
export type Backend = 'auto' | 'webgpu' | 'cpu';

export interface LoadOptions {
  /** Burnpack weights with a CRMnet model card; the embedded default model when absent. */
  weights?: Uint8Array | ArrayBuffer | URL | string;
  /** `'auto'` (default): WebGPU where the browser offers it, else the CPU. */
  backend?: Backend;
  /**
   * Run the model in this many Web Workers (Node: worker threads), each with its own copy of the
   * model, and spread `predict`'s batches (and `mutagenesis`'s positions) over them: one per
   * core multiplies CPU throughput and keeps the calling thread free; no cross-origin isolation
   * is needed. On WebGPU one worker is used. Absent (default): the model runs on the calling
   * thread.
   */
  workers?: number;
}

export interface PredictOptions {
  /** Sequences per forward pass (default 128); the event loop runs between batches, and with workers each takes the next batch. */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /**
   * For a model that reads per-sequence features (`card.input.features`, e.g. Xpresso's
   * half-life features): one row per sequence, or all rows flat. Absent: every feature is 0.
   */
  features?: number[][] | ArrayLike<number>;
}

export interface SaliencyResult {
  /** The model's prediction for the sequence. */
  prediction: number;
  /** Positions scored (the sequence's length, at most the model's input length). */
  length: number;
  /** Input x gradient, `length x 4` row-major: A, C, G, T at each position; only the written base is non-zero. */
  scores: Float32Array;
  /** The plain gradient of the prediction with respect to each base's one-hot channel, same layout. */
  gradient: Float32Array;
}

export interface MutagenesisResult {
  /** Prediction for the sequence as written. */
  reference: number;
  /** Position (0-based) of the first row of `effects`: positions outside the model's input are left out. */
  first: number;
  length: number;
  /** Predicted change of each substitution, `length x 4` row-major (A, C, G, T); 0 for the written base. */
  effects: Float32Array;
}

export interface ModelCard {
  name: string;
  card_version: number;
  crate_version: string;
  /** The configuration's fields and `kind`. */
  architecture: { kind: 'crmnet' | 'deepatt' | 'camformer' | 'xpresso'; [field: string]: unknown };
  alphabet: string;
  sequence_length: number;
  /** How the model reads its input. */
  input: InputSpec;
  parameters: { total: number; trainable: number; [stage: string]: number };
  trained: boolean;
  training_data: string;
  training_recipe: Record<string, unknown> | null;
  metrics: Record<string, { n: number; pearson: number; spearman: number; r2: number; mse: number; mae: number }>;
  /** Where the weights, or their teacher, came from (imported or distilled models). */
  origin?: string;
  /** Licence notice that travels with the weights (an imported model's or a teacher's). */
  license?: string;
}

export interface DesignOptions {
  /** `'max'` (default), `'min'`, or a predicted value to reach. */
  goal?: 'max' | 'min' | number;
  /** Substitutions from the start, at most (default 5). */
  maxChanges?: number;
  /** Sites (A, C, G, T) that must not appear; one already in the start may stay. */
  forbid?: string[];
  /** G+C share of every designed sequence, `[low, high]` within 0-1. */
  gcRange?: [number, number];
  /** Allow changes in the library's constant flanks (kept by default). */
  changeFlanks?: boolean;
  /** `'greedy'` (default: best single substitution a step) or `'genetic'` (a seeded population). */
  strategy?: 'greedy' | 'genetic';
  population?: number;
  generations?: number;
  /** The genetic algorithm's seed: the same seed, the same designs (here and in `crmnet design --seed`). */
  seed?: number;
  /**
   * After every round (a greedy step or a generation; round 0 scores the start), with the best
   * step so far. The greedy search may end before `rounds` when no substitution improves.
   */
  onProgress?: (done: number, rounds: number, best: DesignStep) => void;
  /** Aborting rejects the design at once with the signal's reason; its work stops at the end of the round. */
  signal?: AbortSignal;
}

export interface DesignStep {
  sequence: string;
  prediction: number;
  /** Every position (0-based) that differs from the start. */
  changes: { position: number; from: string; to: string }[];
}

export interface MotifOptions {
  /** Position frequency matrices in JASPAR's text format; the embedded JASPAR 2024 CORE fungi collection (CC BY 4.0) when absent. */
  motifs?: string;
  /** A hit scores at least this share of the way from its matrix's lowest to its highest score (0-1, default 0.85). */
  minScore?: number;
}

export interface MotifHit {
  /** The matrix's identifier (JASPAR's `MA0363.3`). */
  motif: string;
  /** The factor (`REB1`). */
  tf: string;
  /** First position, 0-based. */
  start: number;
  /** One past the last position. */
  end: number;
  strand: '+' | '-';
  /** Log-odds score in bits. */
  score: number;
  /** 0-1: where the score lies between the matrix's lowest and highest. */
  relativeScore: number;
}

export interface MotifAttribution {
  motif: string;
  tf: string;
  consensus: string;
  /** Hit windows compared (a window hit in every sequence has no background and is left out). */
  hits: number;
  sequences: number;
  /** Mean attribution per position on the hits. */
  onHits: number;
  /** Mean attribution per position on the same windows in sequences without a hit there. */
  background: number;
  /** Chance that a hit carries more attribution than a matched background window. */
  auroc: number;
  /** One-sided Mann-Whitney p-value (normal approximation). */
  pValue: number;
  /** Benjamini-Hochberg adjusted over the motifs. */
  qValue: number;
}

export interface MotifsResult {
  /** Which matrices were scanned. */
  collection: string;
  /** Per sequence, its hits with the mean attribution over each. */
  hits: (MotifHit & { attribution: number })[][];
  /** One row per motif with a compared hit, highest AUROC first. */
  summary: MotifAttribution[];
}

export interface InputSpec {
  /** Positions the network reads. */
  length: number;
  /** Where a sequence sits: from the first position (`5'`), ending at the last (`3'`), or its middle base on `centre`. */
  anchor: "5'" | "3'" | 'centre';
  centre?: number;
  /** How N, IUPAC codes and padding are read. */
  unknown_bases: 'n-channel' | 'all-bases' | 'zeros';
  /** The library's constant 5' and 3' flanks, for models made for one. */
  flanks?: [string, string];
  /** Per-sequence numeric inputs (`predict`'s `features`, in this order); absent ones are 0. */
  features?: string[];
}

export interface Info {
  backend: 'webgpu' | 'cpu';
  /** Workers the model runs in; 0 when it runs on the calling thread. */
  workers: number;
  card: ModelCard;
}

export declare class Predictor {
  private constructor(runner: unknown);
  /** Loads the model; rejects with an Error naming the problem (bad weights, WebGPU unavailable). */
  static load(options?: LoadOptions): Promise<Predictor>;
  /** Predicted expression per sequence, in order. Rejects naming the first bad sequence and position. */
  predict(sequences: string[], options?: PredictOptions): Promise<Float32Array>;
  saliency(sequence: string): Promise<SaliencyResult>;
  /** In-silico evolution toward a goal under constraints (`crmnet design`): the start, then each step's best, each closer to the goal. */
  design(sequence: string, options?: DesignOptions): Promise<DesignStep[]>;
  /**
   * Known motifs and the model's attribution on them (`crmnet motifs --attribution`): each
   * motif's hits against the same windows in sequences without them. Sequences are spread over
   * the workers.
   */
  motifs(
    sequences: string[],
    options?: MotifOptions & {
      attribution?: 'mutagenesis' | 'saliency';
      onProgress?: (done: number, total: number) => void;
    },
  ): Promise<MotifsResult>;
  /** Split by position among the workers, when there are several. */
  mutagenesis(sequence: string, options?: { batchSize?: number }): Promise<MutagenesisResult>;
  info(): Info;
  /** Frees the model and ends its workers; later calls throw. */
  close(): void;
}

/** One record read from a text or file. */
export interface SequenceRecord {
  id: string;
  sequence: string;
  /** 1-based line where the record starts. */
  line: number;
}

/**
 * Reads FASTA, the released training format, or a TSV/CSV with a `seq`/`sequence` column (gzip
 * too) with the crate's own readers, as the command line does. Rejects with an Error naming
 * `name`, the line, the record and the reason of the first bad record.
 */
export declare function readSequences(input: string | Uint8Array | ArrayBuffer, name?: string): Promise<SequenceRecord[]>;

/** The promoter construct of the measured libraries. */
export interface LibraryConstruct {
  /** The constant 5' flank. */
  flank5: string;
  /** The constant 3' flank. */
  flank3: string;
  /** Length of the variable region between them. */
  variableLength: number;
}

export declare function libraryConstruct(): Promise<LibraryConstruct>;

/**
 * `count` random promoters of the library (random variable regions in the constant flanks):
 * `crmnet random`'s for the same seed and G+C range, for instance the starts of a design.
 */
export declare function randomPromoters(
  count: number,
  options?: { seed?: number; gcRange?: [number, number] },
): Promise<string[]>;

/** Motif hits of every sequence (`crmnet motifs`), without a model. */
export declare function scanMotifs(sequences: string[], options?: MotifOptions): Promise<MotifHit[][]>;
