//! The CRMnet architecture: a U-Net of squeeze-excitation convolutions around a transformer,
//! one file per block, assembled in [`crmnet`].

mod config;
mod crmnet;
mod decoder;
mod encoder;
mod flops;
mod head;
mod layers;
mod se;
mod transformer;

pub use config::{ConfigError, CrmnetConfig, PositionMode, Preset, TransformerWiring};
pub use crmnet::{Crmnet, ParamCounts};
