//! The architectures this crate runs, behind one type: a weights file names its architecture
//! and configuration ([`Architecture`]), and [`Network`] is the model built from it, so that
//! prediction, interpretation, training and the web package serve every architecture alike.

use std::collections::BTreeMap;

use burn::module::{ModuleVisitor, Param};
use burn::prelude::*;
use burn::store::{ModuleRecord, RecordError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::camformer::{Camformer, CamformerConfig};
use super::config::{ConfigError, CrmnetConfig};
use super::crmnet::Crmnet;
use super::deepatt::{DeepAtt, DeepAttConfig};
use super::xpresso::{Xpresso, XpressoConfig};
use crate::data::alphabet::{Anchor, InputSpec, InputWindow};
use crate::data::construct::{FLANK_3, FLANK_5};

/// An architecture with its configuration. Serialised as the configuration's fields plus
/// `"kind"`; a card without `kind` (written before DeepAtt existed) is CRMnet, and fields a
/// card lacks take the configuration's defaults.
#[derive(Debug, Clone, PartialEq)]
pub enum Architecture {
    Crmnet(CrmnetConfig),
    DeepAtt(DeepAttConfig),
    Camformer(CamformerConfig),
    Xpresso(XpressoConfig),
}

impl Architecture {
    pub fn kind(&self) -> &'static str {
        match self {
            Architecture::Crmnet(_) => "crmnet",
            Architecture::DeepAtt(_) => "deepatt",
            Architecture::Camformer(_) => "camformer",
            Architecture::Xpresso(_) => "xpresso",
        }
    }

    pub fn sequence_length(&self) -> usize {
        match self {
            Architecture::Crmnet(config) => config.sequence_length,
            Architecture::DeepAtt(config) => config.sequence_length,
            Architecture::Camformer(config) => config.sequence_length,
            Architecture::Xpresso(config) => config.sequence_length,
        }
    }

    /// Names of the per-sequence feature inputs the network reads beside the sequence, in
    /// order; empty for the sequence-only architectures.
    pub fn features(&self) -> &[String] {
        match self {
            Architecture::Xpresso(config) => &config.features,
            _ => &[],
        }
    }

    /// How sequences of any length fill the input: as each network's authors prepared theirs.
    pub fn input_window(&self) -> InputWindow {
        let anchor = match self {
            Architecture::Crmnet(_) | Architecture::Camformer(_) => Anchor::FivePrime,
            Architecture::DeepAtt(_) => Anchor::ThreePrime,
            Architecture::Xpresso(config) => Anchor::Centre(config.tss_position),
        };
        InputWindow {
            length: self.sequence_length(),
            anchor,
        }
    }

    /// What the card says about the input: placement, unknown bases, flanks, features.
    pub fn input(&self) -> InputSpec {
        let window = self.input_window();
        let (anchor, centre) = match window.anchor {
            Anchor::FivePrime => ("5'", None),
            Anchor::ThreePrime => ("3'", None),
            Anchor::Centre(position) => ("centre", Some(position)),
        };
        let unknown_bases = match self {
            Architecture::Crmnet(_) => "n-channel",
            Architecture::DeepAtt(_) => "all-bases",
            Architecture::Camformer(_) | Architecture::Xpresso(_) => "zeros",
        };
        let yeast_library = !matches!(self, Architecture::Xpresso(_));
        InputSpec {
            length: window.length,
            anchor: anchor.into(),
            centre,
            unknown_bases: unknown_bases.into(),
            flanks: yeast_library.then(|| [FLANK_5.to_string(), FLANK_3.to_string()]),
            features: self.features().to_vec(),
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        match self {
            Architecture::Crmnet(config) => config.validate(),
            Architecture::DeepAtt(config) => config.validate(),
            Architecture::Camformer(config) => config.validate(),
            Architecture::Xpresso(config) => config.validate(),
        }
    }

    /// Floating-point operations of one sequence's forward pass, a multiply-add counted as two.
    pub fn forward_flops(&self) -> u64 {
        match self {
            Architecture::Crmnet(config) => config.forward_flops(),
            Architecture::DeepAtt(config) => config.forward_flops(),
            Architecture::Camformer(config) => config.forward_flops(),
            Architecture::Xpresso(config) => config.forward_flops(),
        }
    }

    /// The same architecture with every dropout layer at `rate`: a training-time setting that
    /// leaves the parameters, and so the weights files, as they are.
    pub fn with_dropout(self, rate: f64) -> Self {
        match self {
            Architecture::Crmnet(mut config) => {
                config.dropout = rate;
                config.mlp_dropout.fill(rate);
                Architecture::Crmnet(config)
            }
            Architecture::DeepAtt(mut config) => {
                config.dropout = rate;
                Architecture::DeepAtt(config)
            }
            Architecture::Camformer(mut config) => {
                config.dropout = rate;
                config.dense_dropout = rate;
                Architecture::Camformer(config)
            }
            Architecture::Xpresso(mut config) => {
                config.dense_dropout.fill(rate);
                Architecture::Xpresso(config)
            }
        }
    }

    /// The same architecture reporting `y * scale + shift` for its raw output `y`.
    pub fn with_output_affine(self, scale: f64, shift: f64) -> Self {
        match self {
            Architecture::Crmnet(config) => {
                Architecture::Crmnet(config.with_output_scale(scale).with_output_shift(shift))
            }
            Architecture::DeepAtt(config) => {
                Architecture::DeepAtt(config.with_output_scale(scale).with_output_shift(shift))
            }
            Architecture::Camformer(config) => {
                Architecture::Camformer(config.with_output_scale(scale).with_output_shift(shift))
            }
            Architecture::Xpresso(config) => {
                Architecture::Xpresso(config.with_output_scale(scale).with_output_shift(shift))
            }
        }
    }
}

impl Serialize for Architecture {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let config = match self {
            Architecture::Crmnet(config) => serde_json::to_value(config),
            Architecture::DeepAtt(config) => serde_json::to_value(config),
            Architecture::Camformer(config) => serde_json::to_value(config),
            Architecture::Xpresso(config) => serde_json::to_value(config),
        }
        .map_err(serde::ser::Error::custom)?;
        let mut fields = serde_json::Map::new();
        fields.insert("kind".into(), self.kind().into());
        if let serde_json::Value::Object(config) = config {
            fields.extend(config);
        }
        fields.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Architecture {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut fields = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let kind = match fields.remove("kind") {
            None => "crmnet".to_string(),
            Some(serde_json::Value::String(kind)) => kind,
            Some(other) => return Err(D::Error::custom(format!("kind {other} is not a name"))),
        };
        // The given fields over the defaults' (a card names what it changed, or everything).
        fn over_defaults<C: Serialize + serde::de::DeserializeOwned>(
            defaults: C,
            fields: serde_json::Map<String, serde_json::Value>,
        ) -> Result<C, serde_json::Error> {
            let mut merged = match serde_json::to_value(defaults)? {
                serde_json::Value::Object(map) => map,
                _ => serde_json::Map::new(),
            };
            merged.extend(fields);
            serde_json::from_value(serde_json::Value::Object(merged))
        }
        match kind.as_str() {
            "crmnet" => over_defaults(CrmnetConfig::new(), fields).map(Architecture::Crmnet),
            "deepatt" => over_defaults(DeepAttConfig::new(), fields).map(Architecture::DeepAtt),
            "camformer" => {
                over_defaults(CamformerConfig::new(), fields).map(Architecture::Camformer)
            }
            "xpresso" => over_defaults(XpressoConfig::new(), fields).map(Architecture::Xpresso),
            other => {
                return Err(D::Error::custom(format!(
                    "unknown architecture kind {other:?} (known: crmnet, deepatt, camformer, \
                     xpresso)"
                )));
            }
        }
        .map_err(D::Error::custom)
    }
}

/// Named architectures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// The published CRMnet (34.2 M parameters).
    Crmnet,
    /// CRMnet at about a tenth of the size, for the browser.
    CrmnetWeb,
    /// CRMnet at toy size, for smoke tests of the tools.
    CrmnetTiny,
    /// DeepAtt as published (84 k parameters), the architecture of the distillation teacher.
    DeepAtt,
    /// Camformer as published (16.6 M parameters).
    Camformer,
    /// Camformer with a quarter of the filters (1.3 M parameters), for the browser.
    CamformerWeb,
    /// Xpresso as published with the paper's eight half-life features (112,485 parameters),
    /// reading 10.5 kb around a transcription start site.
    Xpresso,
}

impl Preset {
    pub const ALL: [Preset; 7] = [
        Preset::Crmnet,
        Preset::CrmnetWeb,
        Preset::CrmnetTiny,
        Preset::DeepAtt,
        Preset::Camformer,
        Preset::CamformerWeb,
        Preset::Xpresso,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Preset::Crmnet => "crmnet",
            Preset::CrmnetWeb => "crmnet-web",
            Preset::CrmnetTiny => "crmnet-tiny",
            Preset::DeepAtt => "deepatt",
            Preset::Camformer => "camformer",
            Preset::CamformerWeb => "camformer-web",
            Preset::Xpresso => "xpresso",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|preset| preset.name() == name)
    }

    pub fn architecture(self) -> Architecture {
        match self {
            Preset::Crmnet => Architecture::Crmnet(CrmnetConfig::published()),
            Preset::CrmnetWeb => Architecture::Crmnet(CrmnetConfig::web()),
            Preset::CrmnetTiny => Architecture::Crmnet(CrmnetConfig::tiny()),
            Preset::DeepAtt => Architecture::DeepAtt(DeepAttConfig::new()),
            Preset::Camformer => Architecture::Camformer(CamformerConfig::published()),
            Preset::CamformerWeb => Architecture::Camformer(CamformerConfig::web()),
            Preset::Xpresso => Architecture::Xpresso(XpressoConfig::new()),
        }
    }
}

impl std::str::FromStr for Preset {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Preset::from_name(name).ok_or_else(|| {
            let names: Vec<_> = Preset::ALL.iter().map(|p| p.name()).collect();
            format!(
                "unknown architecture '{name}' (known: {})",
                names.join(", ")
            )
        })
    }
}

/// A network of any architecture: one-hot sequences `[batch, 5, length]` in, predicted
/// expression `[batch]` out.
// A process holds one or two networks (a predictor, its autodiff twin), so the variants' sizes
// do not matter; boxing would put an indirection into every match.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Network {
    Crmnet(Crmnet),
    DeepAtt(DeepAtt),
    Camformer(Camformer),
    Xpresso(Xpresso),
}

impl Network {
    pub fn new(architecture: &Architecture, device: &Device) -> Result<Self, ConfigError> {
        Ok(match architecture {
            Architecture::Crmnet(config) => Network::Crmnet(Crmnet::new(config, device)?),
            Architecture::DeepAtt(config) => Network::DeepAtt(DeepAtt::new(config, device)?),
            Architecture::Camformer(config) => Network::Camformer(Camformer::new(config, device)?),
            Architecture::Xpresso(config) => Network::Xpresso(Xpresso::new(config, device)?),
        })
    }

    /// This network with the parameters of `record`, named as its architecture's own module
    /// names them (a weights file's).
    pub fn load_parameters(self, record: ModuleRecord) -> Result<Self, RecordError> {
        match self {
            Network::Crmnet(model) => model.try_load_record(record).map(Network::Crmnet),
            Network::DeepAtt(model) => model.try_load_record(record).map(Network::DeepAtt),
            Network::Camformer(model) => model.try_load_record(record).map(Network::Camformer),
            Network::Xpresso(model) => model.try_load_record(record).map(Network::Xpresso),
        }
    }

    /// The same parameters, their ids included (an optimiser's state is keyed by them), in a
    /// network of `architecture`, which may differ from this network's only in what holds no
    /// parameters, as [`Architecture::with_dropout`] does.
    pub fn rebuilt(
        self,
        architecture: &Architecture,
        device: &Device,
    ) -> Result<Self, ConfigError> {
        let record = match self {
            Network::Crmnet(model) => model.into_record(),
            Network::DeepAtt(model) => model.into_record(),
            Network::Camformer(model) => model.into_record(),
            Network::Xpresso(model) => model.into_record(),
        };
        Network::new(architecture, device)?
            .load_parameters(record)
            .map_err(|e| ConfigError(format!("the parameters do not fit the architecture: {e}")))
    }

    /// Predictions from sequences alone: an architecture that reads features too gets all of
    /// them 0 (their training mean, as features are z-scored).
    pub fn forward(&self, one_hot: Tensor<3>) -> Tensor<1> {
        self.forward_with_features(one_hot, None)
    }

    /// Predictions from sequences and, for an architecture that reads them
    /// ([`Architecture::features`]), their features `[batch, features]`; the sequence-only
    /// architectures ignore them.
    pub fn forward_with_features(
        &self,
        one_hot: Tensor<3>,
        features: Option<Tensor<2>>,
    ) -> Tensor<1> {
        match self {
            Network::Crmnet(model) => model.forward(one_hot),
            Network::DeepAtt(model) => model.forward(one_hot),
            Network::Camformer(model) => model.forward(one_hot),
            Network::Xpresso(model) => model.forward(one_hot, features),
        }
    }

    /// Parameters per stage, in the order data flows through them.
    pub fn stages(&self) -> Vec<(&'static str, usize)> {
        match self {
            Network::Crmnet(model) => model.stages(),
            Network::DeepAtt(model) => model.stages(),
            Network::Camformer(model) => model.stages(),
            Network::Xpresso(model) => model.stages(),
        }
    }

    pub fn param_counts(&self) -> ParamCounts {
        ParamCounts::of(self, self.stages())
    }
}

impl From<Crmnet> for Network {
    fn from(model: Crmnet) -> Self {
        Network::Crmnet(model)
    }
}

impl From<DeepAtt> for Network {
    fn from(model: DeepAtt) -> Self {
        Network::DeepAtt(model)
    }
}

impl From<Camformer> for Network {
    fn from(model: Camformer) -> Self {
        Network::Camformer(model)
    }
}

impl From<Xpresso> for Network {
    fn from(model: Xpresso) -> Self {
        Network::Xpresso(model)
    }
}

/// Parameter counts: per stage (named by the architecture), in all, and trainable. `total`
/// includes batch-norm running statistics, which are stored with the weights but not trained;
/// `trainable` excludes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamCounts {
    #[serde(flatten)]
    pub stages: BTreeMap<String, usize>,
    pub total: usize,
    pub trainable: usize,
}

impl ParamCounts {
    pub fn of<M: Module>(module: &M, stages: Vec<(&str, usize)>) -> Self {
        let mut counter = ParamCounter::default();
        module.visit(&mut counter);
        Self {
            stages: stages
                .into_iter()
                .map(|(name, count)| (name.to_string(), count))
                .collect(),
            total: counter.total,
            trainable: counter.total - counter.running_statistics,
        }
    }
}

#[derive(Default)]
struct ParamCounter {
    path: Vec<String>,
    total: usize,
    running_statistics: usize,
}

impl ModuleVisitor for ParamCounter {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let count = param.lazy_shape().num_elements();
        self.total += count;
        if self
            .path
            .last()
            .is_some_and(|name| name.starts_with("running_"))
        {
            self.running_statistics += count;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn architectures_round_trip_with_their_kind() {
        for preset in Preset::ALL {
            let architecture = preset.architecture();
            let json = serde_json::to_value(&architecture).unwrap();
            assert_eq!(json["kind"], architecture.kind());
            let back: Architecture = serde_json::from_value(json).unwrap();
            assert_eq!(back, architecture);
        }
    }

    #[test]
    fn cards_written_before_deepatt_read_as_crmnet_with_defaults_for_new_fields() {
        let mut legacy = serde_json::to_value(CrmnetConfig::web()).unwrap();
        let fields = legacy.as_object_mut().unwrap();
        fields.remove("output_scale");
        fields.remove("output_shift");
        let read: Architecture = serde_json::from_value(legacy).unwrap();
        assert_eq!(read, Architecture::Crmnet(CrmnetConfig::web()));
        let unknown = serde_json::json!({"kind": "resnet"});
        let error = serde_json::from_value::<Architecture>(unknown).unwrap_err();
        assert!(
            error.to_string().contains("unknown architecture kind"),
            "{error}"
        );
    }

    #[test]
    fn the_deepatt_preset_has_the_published_parameter_count() {
        let network = Network::new(&Preset::DeepAtt.architecture(), &Device::flex()).unwrap();
        assert_eq!(network.param_counts().total, 84_273);
        assert_eq!(
            Preset::DeepAtt.architecture().forward_flops(),
            DeepAttConfig::new().forward_flops()
        );
    }

    /// The authors' model summary (their repository's `manuscript_figures/Figure_2`): 16,611,073
    /// trainable parameters, 20,992 in the first convolution, 2,621,952 in each other one,
    /// 1,024 in each batch norm and 3,474,177 in the dense head.
    #[test]
    fn the_camformer_preset_has_the_published_parameter_count() {
        let network = Network::new(&Preset::Camformer.architecture(), &Device::flex()).unwrap();
        let counts = network.param_counts();
        assert_eq!(counts.trainable, 16_611_073);
        assert_eq!(counts.stages["dense"], 3_408_128 + 65_792 + 257);
        assert_eq!(
            counts.stages["convolutions"],
            20_992 + 5 * 2_621_952 + 6 * 1_024 + 6 * 1_024
        );
        let config = CamformerConfig::published();
        assert_eq!(config.block_lengths(), vec![110, 110, 110, 110, 26, 26]);
        assert_eq!(config.flattened(), 13_312);
    }

    /// The Xpresso README's counts: 112,485 parameters with the paper's eight features,
    /// 112,357 with the six of the published human and mouse files.
    #[test]
    fn the_xpresso_preset_has_the_published_parameter_counts() {
        let device = Device::flex();
        let eight = Network::new(&Preset::Xpresso.architecture(), &device).unwrap();
        assert_eq!(eight.param_counts().total, 112_485);
        assert_eq!(eight.param_counts().trainable, 112_485);
        let six = XpressoConfig::new().with_features((1..=6).map(|i| format!("f{i}")).collect());
        let six = Network::new(&Architecture::Xpresso(six), &device).unwrap();
        assert_eq!(six.param_counts().total, 112_357);
        assert_eq!(XpressoConfig::new().steps(), 35);
    }
}
