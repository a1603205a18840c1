//! The architectures: CRMnet, a U-Net of squeeze-excitation convolutions around a transformer;
//! DeepAtt, the convolution / LSTM / attention model of the distillation teacher; Camformer,
//! residual pairs of wide convolutions; Xpresso, convolutions over 10.5 kb of promoter joined by
//! mRNA half-life features; one file per block, all behind [`Network`].

mod camformer;
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
mod xpresso;

pub use camformer::{Camformer, CamformerConfig};
pub use config::{ConfigError, CrmnetConfig, PositionMode, TransformerWiring};
pub use crmnet::Crmnet;
pub use deepatt::{DeepAtt, DeepAttConfig};
pub use network::{Architecture, Network, ParamCounts, Preset};
pub use xpresso::{HALF_LIFE_FEATURES, Xpresso, XpressoConfig};
