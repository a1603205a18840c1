//! Sequence input: the alphabet and its one-hot encoding, streaming readers for the formats
//! users have, and batching into model-ready tensors.

pub mod alphabet;
pub mod batching;
pub mod readers;
