//! Sequence input: the alphabet and its one-hot encoding, streaming readers for the formats
//! users have, batching into model-ready tensors, and the libraries' promoter construct.

pub mod alphabet;
pub mod batching;
pub mod construct;
pub mod readers;
