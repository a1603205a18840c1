//! The JavaScript API (wasm32 only), wrapped by `pkg/index.js`: loading weights on WebGPU or the
//! CPU, prediction, saliency, mutagenesis, design, motif scanning and attribution, and the
//! model card. Every failure is a rejected
//! promise with an `Error` saying what and where; nothing here panics on user input, so the
//! module stays usable after an error.

use std::ops::ControlFlow;
use std::rc::Rc;

use burn::prelude::*;
use js_sys::{Float32Array, Object, Promise, Reflect};
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use crate::backend::Backend;
use crate::data::alphabet::{self, LETTERS, channels};
use crate::data::construct;
use crate::data::readers::{Columns, InputFormat, SequenceReader};
use crate::inference::Predictor;
use crate::interpret::motifs::{self, Attribution, Hit, Motif};
use crate::interpret::{
    self, Constraints, DesignRound, DesignStep, Goal, Strategy, design_async, mutagenesis_async,
    saliency_async,
};
use crate::weights;

/// Where the model runs, as `info()` reports it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Placement {
    #[cfg(feature = "wgpu")]
    WebGpu,
    Cpu,
}

impl Placement {
    fn name(self) -> &'static str {
        match self {
            #[cfg(feature = "wgpu")]
            Placement::WebGpu => "webgpu",
            Placement::Cpu => "cpu",
        }
    }
}

/// A loaded model. Methods return promises so that a GPU readback never blocks the page.
#[wasm_bindgen]
pub struct Model {
    predictor: Rc<Predictor>,
    placement: Placement,
}

fn error(message: impl std::fmt::Display) -> JsValue {
    JsError::new(&message.to_string()).into()
}

/// The device for `backend`: `auto` (WebGPU where it starts, else the CPU), or any name the
/// command line's `--backend` takes (`cpu` is flex, measured faster than ndarray; `webgpu` is
/// wgpu). A module built without the `wgpu` feature (the package's small CPU module) runs
/// `auto` on the CPU and refuses `webgpu`.
async fn device_for(backend: &str) -> Result<(Device, Placement), JsValue> {
    let cpu = || Ok((Backend::Flex.device().map_err(error)?, Placement::Cpu));
    if backend == "auto" {
        #[cfg(feature = "wgpu")]
        if let Ok(device) = Backend::Wgpu.device_async().await {
            return Ok((device, Placement::WebGpu));
        }
        return cpu();
    }
    let chosen: Backend = backend
        .parse()
        .map_err(|e| error(format!("{e}; or 'auto'")))?;
    let device = chosen.device_async().await.map_err(error)?;
    let placement = match chosen {
        #[cfg(feature = "wgpu")]
        Backend::Wgpu => Placement::WebGpu,
        _ => Placement::Cpu,
    };
    Ok((device, placement))
}

/// Channels of each sequence, or an error naming the first bad one (`first_index` numbers them
/// within the caller's whole list, 1-based in the message).
fn encode_all(sequences: &[String], first_index: usize) -> Result<Vec<Vec<u8>>, JsValue> {
    sequences
        .iter()
        .enumerate()
        .map(|(i, sequence)| {
            channels(sequence.trim())
                .map_err(|e| error(format!("sequence {}: {e}", first_index + i + 1)))
        })
        .collect()
}

fn set(object: &Object, key: &str, value: impl Into<JsValue>) {
    // Setting a fresh plain object's own property cannot fail.
    let _ = Reflect::set(object, &key.into(), &value.into());
}

fn flat(rows: &[[f32; 4]]) -> Float32Array {
    let values: Vec<f32> = rows.iter().flatten().copied().collect();
    Float32Array::from(values.as_slice())
}

#[wasm_bindgen]
impl Model {
    /// Loads `weights` (burnpack bytes; the embedded default model when absent) on `backend`:
    /// `'auto'` (WebGPU where the browser has it, else the CPU), `'webgpu'` or `'cpu'`.
    pub async fn load(weights: Option<Vec<u8>>, backend: String) -> Result<Model, JsValue> {
        let (device, placement) = device_for(&backend).await?;
        let (model, card) = match weights {
            Some(bytes) => weights::from_bytes(bytes, "the given weights", &device),
            None => weights::default_model(&device),
        }
        .map_err(error)?;
        Ok(Model {
            predictor: Rc::new(Predictor::new(model, card, device)),
            placement,
        })
    }

    /// Predictions for `sequences` (a Float32Array resolves); `first_index` is the position of
    /// the first of them in the caller's list, for error messages. `features`: for a model that
    /// reads per-sequence features (`card.input.features`), each sequence's, row after row;
    /// absent, every feature is 0 (its training mean).
    pub fn predict(
        &self,
        sequences: Vec<String>,
        first_index: usize,
        features: Option<Vec<f32>>,
    ) -> Promise {
        let predictor = self.predictor.clone();
        future_to_promise(async move {
            let encoded = encode_all(&sequences, first_index)?;
            if encoded.is_empty() {
                return Ok(Float32Array::new_with_length(0).into());
            }
            let features = features
                .map(|values| predictor.encode_features(encoded.len(), &values))
                .transpose()
                .map_err(|e| error(format!("sequences {} onwards: {e}", first_index + 1)))?;
            let input = predictor.encode(encoded.iter().map(Vec::as_slice));
            let predictions = predictor
                .predict_encoded_with_features_async(input, features)
                .await
                .map_err(error)?;
            Ok(Float32Array::from(predictions.as_slice()).into())
        })
    }

    /// `{ prediction, length, scores, gradient }`: input x gradient and the plain gradient, each
    /// a Float32Array of `length x 4` (A, C, G, T per position).
    pub fn saliency(&self, sequence: String) -> Promise {
        let predictor = self.predictor.clone();
        future_to_promise(async move {
            let codes = encode_all(&[sequence], 0)?.remove(0);
            let result = saliency_async(&predictor, &codes).await.map_err(error)?;
            let object = Object::new();
            set(&object, "prediction", result.prediction);
            set(&object, "length", result.scores.len() as u32);
            set(&object, "scores", flat(&result.scores));
            set(&object, "gradient", flat(&result.gradient));
            Ok(object.into())
        })
    }

    /// `{ reference, length, effects }`: the predicted change of every single-base substitution
    /// at positions `first_position..end_position` (clamped to the sequence and the model's
    /// input; workers each take a part), `length x 4`, predicted in batches of `batch_size`.
    pub fn mutagenesis(
        &self,
        sequence: String,
        batch_size: usize,
        first_position: usize,
        end_position: usize,
    ) -> Promise {
        let predictor = self.predictor.clone();
        future_to_promise(async move {
            let codes = encode_all(&[sequence], 0)?.remove(0);
            let positions = first_position..end_position;
            let result = mutagenesis_async(&predictor, &codes, positions, batch_size)
                .await
                .map_err(error)?;
            let object = Object::new();
            set(&object, "reference", result.reference);
            set(&object, "first", result.first_position as u32);
            set(&object, "length", result.effects.len() as u32);
            set(&object, "effects", flat(&result.effects));
            Ok(object.into())
        })
    }

    /// In-silico evolution of `sequence` toward `options.goal` (`'max'`, `'min'` or a number)
    /// under `options` (`maxChanges`, `forbid`, `gcRange: [low, high]`, `changeFlanks`,
    /// `strategy: 'greedy' | 'genetic'`, `population`, `generations`, `seed`), as
    /// `crmnet design` does: resolves `[{ sequence, prediction, changes: [{ position, from,
    /// to }] }]`, the start first, each step closer to the goal. `on_round(done, rounds, best)`,
    /// when given, hears of every round with the best step so far; it may return a promise,
    /// which is awaited, and `false` (or a promise of it) stops the design there, resolving the
    /// trajectory so far. A callback that throws rejects the design with its error.
    pub fn design(
        &self,
        sequence: String,
        options: JsValue,
        on_round: Option<js_sys::Function>,
    ) -> Promise {
        let predictor = self.predictor.clone();
        future_to_promise(async move {
            let options: DesignOptions = if options.is_undefined() || options.is_null() {
                DesignOptions::default()
            } else {
                // Through JSON: serde-wasm-bindgen reads a struct's known fields only, so a
                // misspelt option would be ignored rather than refused.
                serde_wasm_bindgen::from_value::<serde_json::Value>(options)
                    .map_err(|e| e.to_string())
                    .and_then(|value| serde_json::from_value(value).map_err(|e| e.to_string()))
                    .map_err(|e| error(format!("design options: {e}")))?
            };
            let codes = encode_all(std::slice::from_ref(&sequence), 0)?.remove(0);
            let goal: Goal = match &options.goal {
                None => Goal::Maximise,
                Some(GoalOption::Value(value)) if value.is_finite() => Goal::Reach(*value),
                Some(GoalOption::Value(value)) => {
                    return Err(error(format!("goal {value}: not a finite number")));
                }
                Some(GoalOption::Name(name)) => name.parse().map_err(error)?,
            };
            let forbidden = options
                .forbid
                .iter()
                .map(|text| interpret::site(text))
                .collect::<Result<Vec<_>, _>>()
                .map_err(error)?;
            let gc = options
                .gc_range
                .map(|(low, high)| interpret::gc_range(low, high))
                .transpose()
                .map_err(error)?;
            let keep = if options.change_flanks {
                Vec::new()
            } else {
                interpret::flank_positions(&predictor.card().input, &sequence)
            };
            let strategy = match options.strategy.as_deref() {
                None | Some("greedy") => Strategy::Greedy,
                Some("genetic") => Strategy::Genetic {
                    population: options.population.unwrap_or(interpret::DEFAULT_POPULATION),
                    generations: options
                        .generations
                        .unwrap_or(interpret::DEFAULT_GENERATIONS),
                },
                Some(other) => {
                    return Err(error(format!("strategy {other:?}: greedy or genetic")));
                }
            };
            let constraints = Constraints {
                max_substitutions: options
                    .max_changes
                    .unwrap_or(interpret::DEFAULT_MAX_SUBSTITUTIONS),
                keep,
                forbidden,
                gc,
            };
            // What the callback threw, if it did: the design stops and rejects with it.
            let mut thrown = None;
            let trajectory = design_async(
                &predictor,
                &codes,
                goal,
                &constraints,
                strategy,
                options.seed.unwrap_or(0),
                async |round: DesignRound<'_>| {
                    let Some(callback) = &on_round else {
                        return ControlFlow::Continue(());
                    };
                    match report_round(callback, round).await {
                        Ok(true) => ControlFlow::Continue(()),
                        Ok(false) => ControlFlow::Break(()),
                        Err(error) => {
                            thrown = Some(error);
                            ControlFlow::Break(())
                        }
                    }
                },
            )
            .await
            .map_err(error)?;
            if let Some(thrown) = thrown {
                return Err(thrown);
            }
            let steps: Vec<serde_json::Value> = trajectory.iter().map(step_json).collect();
            to_js(&steps)
        })
    }

    /// How much the prediction for `sequence` depends on each of its positions (a Float32Array
    /// of its length): `method` `'mutagenesis'` (the mean absolute change of the three
    /// substitutions) or `'saliency'` (the centred gradient at the written base), as
    /// `crmnet motifs --attribution` measures it.
    pub fn attribution(&self, sequence: String, method: String) -> Promise {
        let predictor = self.predictor.clone();
        future_to_promise(async move {
            let method: Attribution = method.parse().map_err(error)?;
            let codes = encode_all(&[sequence], 0)?.remove(0);
            let values = method.of_async(&predictor, &codes).await.map_err(error)?;
            Ok(Float32Array::from(values.as_slice()).into())
        })
    }

    /// `{ backend, card }`: where the model runs and its model card.
    pub fn info(&self) -> Result<JsValue, JsValue> {
        let info = serde_json::json!({
            "backend": self.placement.name(),
            "card": self.predictor.card(),
        });
        to_js(&info)
    }
}

/// The records of a FASTA, released-format or headered-table text (gzip too), read by the
/// crate's own readers, as the command line reads files: `[{ id, sequence, line }]`, or an
/// Error naming `name`, the line, the record and the reason of the first bad record.
#[wasm_bindgen(js_name = readSequences)]
pub fn read_sequences(bytes: Vec<u8>, name: String) -> Result<JsValue, JsValue> {
    let reader = SequenceReader::from_reader(
        name.clone(),
        Box::new(std::io::Cursor::new(bytes)),
        InputFormat::Auto,
        &Columns::default(),
    )
    .map_err(error)?;
    let records = reader
        .map(|record| {
            record
                .map(|r| serde_json::json!({ "id": r.id, "sequence": r.sequence, "line": r.line }))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(error)?;
    if records.is_empty() {
        return Err(error(format!("{name}: no sequences found")));
    }
    to_js(&records)
}

/// `motifs` (JASPAR-format text) parsed, or the embedded JASPAR 2024 CORE fungi collection.
fn motif_set(motifs: Option<String>) -> Result<(Vec<Motif>, String), JsValue> {
    match motifs {
        None => Ok((
            motifs::jaspar_fungi(),
            motifs::JASPAR_FUNGI_NAME.to_string(),
        )),
        Some(text) => Ok((
            motifs::parse_jaspar(&text, "the given motifs").map_err(error)?,
            "the given motifs".to_string(),
        )),
    }
}

fn hit_json(motifs: &[Motif], hit: &Hit) -> serde_json::Value {
    let motif = &motifs[hit.motif];
    serde_json::json!({
        "motif": motif.id, "tf": motif.name, "start": hit.start, "end": hit.end,
        "strand": hit.strand.to_string(), "score": hit.score, "relativeScore": hit.relative_score,
    })
}

fn check_min_score(min_score: Option<f32>) -> Result<f32, JsValue> {
    match min_score {
        None => Ok(motifs::DEFAULT_MIN_RELATIVE_SCORE),
        Some(share) if (0.0..=1.0).contains(&share) => Ok(share),
        Some(share) => Err(error(format!(
            "minScore {share}: expected a number from 0 to 1"
        ))),
    }
}

/// The motif hits of every sequence, as `crmnet motifs` finds them: per sequence `[{ motif,
/// tf, start, end, strand, score, relativeScore }]` (`start` 0-based, `end` exclusive), with
/// `motifs` (JASPAR-format text; the embedded JASPAR 2024 CORE fungi when absent) and
/// `min_score` (the share of the way from a matrix's lowest to its highest score; 0.85 when
/// absent).
#[wasm_bindgen(js_name = scanMotifs)]
pub fn scan_motifs(
    sequences: Vec<String>,
    motifs: Option<String>,
    min_score: Option<f32>,
) -> Result<JsValue, JsValue> {
    let (matrices, _) = motif_set(motifs)?;
    let min_score = check_min_score(min_score)?;
    let hits: Vec<Vec<serde_json::Value>> = encode_all(&sequences, 0)?
        .iter()
        .map(|codes| {
            motifs::scan(&matrices, codes, min_score)
                .iter()
                .map(|hit| hit_json(&matrices, hit))
                .collect()
        })
        .collect();
    to_js(&hits)
}

/// Each motif's attribution over `sequences` against matched background, as `crmnet motifs
/// --summary` writes it: `attributions` holds every sequence's per-position attribution
/// (`Model.attribution`), one after the other. Returns `{ collection, hits, summary }`: `hits`
/// as `scanMotifs` gives them, each with the mean `attribution` over it; `summary` `[{ motif,
/// tf, consensus, hits, sequences, onHits, background, auroc, pValue, qValue }]`, by AUROC.
#[wasm_bindgen(js_name = motifAttribution)]
pub fn motif_attribution(
    sequences: Vec<String>,
    attributions: Vec<f32>,
    motifs: Option<String>,
    min_score: Option<f32>,
) -> Result<JsValue, JsValue> {
    let (matrices, collection) = motif_set(motifs)?;
    let min_score = check_min_score(min_score)?;
    let encoded = encode_all(&sequences, 0)?;
    let total: usize = encoded.iter().map(Vec::len).sum();
    if attributions.len() != total {
        return Err(error(format!(
            "attributions: {} values for {} positions in {} sequences",
            attributions.len(),
            total,
            encoded.len()
        )));
    }
    let mut rest = attributions.as_slice();
    let mut per_sequence = Vec::with_capacity(encoded.len());
    for codes in &encoded {
        let (these, others) = rest.split_at(codes.len());
        per_sequence.push(these.to_vec());
        rest = others;
    }
    let hits: Vec<Vec<Hit>> = encoded
        .iter()
        .map(|codes| motifs::scan(&matrices, codes, min_score))
        .collect();
    let hits_json: Vec<Vec<serde_json::Value>> = hits
        .iter()
        .zip(&per_sequence)
        .map(|(sequence_hits, attribution)| {
            sequence_hits
                .iter()
                .map(|hit| {
                    let mut row = hit_json(&matrices, hit);
                    row["attribution"] = hit.mean_of(attribution).into();
                    row
                })
                .collect()
        })
        .collect();
    let mut results = motifs::attribution_by_motif(&matrices, &hits, &per_sequence);
    motifs::sort_by_auroc(&mut results);
    let summary: Vec<serde_json::Value> = results
        .iter()
        .map(|result| {
            let motif = &matrices[result.motif];
            serde_json::json!({
                "motif": motif.id, "tf": motif.name, "consensus": motif.consensus(),
                "hits": result.hits, "sequences": result.sequences, "onHits": result.on_hits,
                "background": result.background, "auroc": result.auroc,
                "pValue": result.p_value, "qValue": result.q_value,
            })
        })
        .collect();
    to_js(&serde_json::json!({ "collection": collection, "hits": hits_json, "summary": summary }))
}

/// `value` as a plain JavaScript value (objects, not Maps).
fn to_js(value: &impl Serialize) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(error)
}

/// A design step as JavaScript reads it: `{ sequence, prediction, changes: [{ position, from,
/// to }] }`.
fn step_json(step: &DesignStep) -> serde_json::Value {
    let letter = |code: u8| LETTERS[usize::from(code)].to_string();
    serde_json::json!({
        "sequence": alphabet::letters(&step.sequence),
        "prediction": step.prediction,
        "changes": step.changes.iter().map(|&(position, from, to)| serde_json::json!({
            "position": position, "from": letter(from), "to": letter(to),
        })).collect::<Vec<_>>(),
    })
}

/// `callback(done, rounds, best)`, its promise awaited: whether the design goes on (anything
/// but `false`), or what it threw.
async fn report_round(
    callback: &js_sys::Function,
    round: DesignRound<'_>,
) -> Result<bool, JsValue> {
    let answer = callback.call3(
        &JsValue::NULL,
        &JsValue::from(round.done as u32),
        &JsValue::from(round.rounds as u32),
        &to_js(&step_json(round.best))?,
    )?;
    let answer = match answer.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise).await?,
        Err(value) => value,
    };
    Ok(answer != JsValue::FALSE)
}

/// `design`'s options, as JavaScript names them.
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DesignOptions {
    goal: Option<GoalOption>,
    max_changes: Option<usize>,
    #[serde(default)]
    forbid: Vec<String>,
    gc_range: Option<(f64, f64)>,
    #[serde(default)]
    change_flanks: bool,
    strategy: Option<String>,
    population: Option<usize>,
    generations: Option<usize>,
    seed: Option<u64>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum GoalOption {
    Value(f32),
    Name(String),
}

/// `count` random promoters of the library (random variable regions in the constant flanks),
/// as `crmnet random` writes them for the same `seed` and G+C range (`gc_low`..`gc_high`,
/// both or neither).
#[wasm_bindgen(js_name = randomPromoters)]
pub fn random_promoters(
    count: usize,
    seed: f64,
    gc_low: Option<f64>,
    gc_high: Option<f64>,
) -> Result<Vec<String>, JsValue> {
    // A JavaScript number: a whole one that converts to u64 exactly.
    if !(seed.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&seed)) {
        return Err(error(format!(
            "seed {seed}: a whole number from 0 to 2^53 - 1"
        )));
    }
    let seed = seed as u64;
    let gc = match (gc_low, gc_high) {
        (Some(low), Some(high)) => Some(interpret::gc_range(low, high).map_err(error)?),
        (None, None) => None,
        _ => return Err(error("gcRange: [low, high], both or neither")),
    };
    let promoters = construct::random_promoters(count, seed, gc).map_err(error)?;
    Ok(promoters
        .iter()
        .map(|promoter| alphabet::letters(promoter))
        .collect())
}

/// The promoter construct of the measured libraries: `{ flank5, flank3, variableLength }`.
#[wasm_bindgen(js_name = libraryConstruct)]
pub fn library_construct() -> Result<JsValue, JsValue> {
    to_js(&serde_json::json!({
        "flank5": construct::FLANK_5,
        "flank3": construct::FLANK_3,
        "variableLength": construct::VARIABLE_LENGTH,
    }))
}
