//! The architectures: CRMnet, a U-Net of squeeze-excitation convolutions around a transformer,
//! and DeepAtt, the convolution / LSTM / attention model of the distillation teacher; one file
//! per block, both behind [`Network`].

mod config;
mod crmnet;
mod decoder;
mod deepatt;
mod encoder;
mod flops;
mod head;
mod layers;
mod network;
mod recurrent;
mod relu_attention;
mod se;
mod transformer;

pub use config::{ConfigError, CrmnetConfig, PositionMode, TransformerWiring};
pub use crmnet::Crmnet;
pub use deepatt::{DeepAtt, DeepAttConfig};
pub use network::{Architecture, Network, ParamCounts, Preset};
