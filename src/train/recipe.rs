//! The training recipe: the paper's by default, from a JSON or TOML file, overridable by flags.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Recipe {
    /// Architecture preset for training from scratch.
    pub arch: String,
    pub max_epochs: usize,
    /// Sequences per optimiser step on each device.
    pub batch_size: usize,
    /// Linear warm-up from `lr_start` to `lr_peak` over these epochs, then cosine decay back.
    pub warmup_epochs: usize,
    pub lr_start: f64,
    pub lr_peak: f64,
    /// Epochs without a better validation R^2 before stopping (the best weights are kept).
    pub patience: usize,
    pub huber_delta: f64,
    /// Rows held for shuffling a streamed file.
    pub shuffle_buffer: usize,
    /// Per-mille of rows held out for validation by sequence hash, for files without a split column.
    pub valid_permille: u32,
    pub seed: u64,
    /// Devices training in data parallel: the global batch is `batch_size x devices` and the
    /// learning rates are scaled by the device count, as in the paper.
    pub devices: usize,
    /// Float type of the weights and the arithmetic (lower precision where the backend has it).
    pub precision: Precision,
    /// Rows per forward/backward pass on a device (gradient accumulation): each device's batch
    /// is computed in passes of at most this many rows, whose gradients are summed before the
    /// one optimiser step. For devices that cannot hold a whole batch: wgpu cannot allocate
    /// the full model's largest float32 buffer at 1,024 rows. Unset: one pass per device.
    pub micro_batch_size: Option<usize>,
    /// Keep every epoch's weights (`checkpoint-NNNN.bpk`), not only the last one's, for
    /// checkpoint averaging (`crmnet export --from` with several files); the optimizer's state
    /// is kept for the last epoch only, which is all that resuming needs.
    pub keep_checkpoints: bool,
    /// Dropout rate of every dropout layer while training, in place of the architecture's own.
    /// A student learning its teacher on rows it never sees twice has nothing to overfit, and
    /// dropout's noise only blurs what it learns; unset: the architecture's rates.
    pub dropout: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    F32,
    F16,
    Bf16,
}

impl Precision {
    pub const ALL: [Precision; 3] = [Precision::F32, Precision::F16, Precision::Bf16];

    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
            Precision::Bf16 => "bf16",
        }
    }

    pub fn dtype(self) -> burn::tensor::FloatDType {
        match self {
            Precision::F32 => burn::tensor::FloatDType::F32,
            Precision::F16 => burn::tensor::FloatDType::F16,
            Precision::Bf16 => burn::tensor::FloatDType::BF16,
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Precision {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        Precision::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("unknown precision '{name}' (known: f32, f16, bf16)"))
    }
}

/// Recipe fields set for one run (command-line flags); `None` keeps the recipe's value.
#[derive(Debug, Clone, Default)]
pub struct RecipeOverrides {
    pub arch: Option<String>,
    pub max_epochs: Option<usize>,
    pub batch_size: Option<usize>,
    pub warmup_epochs: Option<usize>,
    pub lr_peak: Option<f64>,
    pub patience: Option<usize>,
    pub shuffle_buffer: Option<usize>,
    pub seed: Option<u64>,
    pub devices: Option<usize>,
    pub precision: Option<Precision>,
    pub micro_batch_size: Option<usize>,
    pub keep_checkpoints: Option<bool>,
    pub dropout: Option<f64>,
}

impl RecipeOverrides {
    /// `base` with these fields set, validated.
    pub fn apply(&self, mut recipe: Recipe) -> Result<Recipe> {
        if let Some(arch) = &self.arch {
            recipe.arch = arch.clone();
        }
        recipe.max_epochs = self.max_epochs.unwrap_or(recipe.max_epochs);
        recipe.batch_size = self.batch_size.unwrap_or(recipe.batch_size);
        recipe.warmup_epochs = self.warmup_epochs.unwrap_or(recipe.warmup_epochs);
        recipe.lr_peak = self.lr_peak.unwrap_or(recipe.lr_peak);
        recipe.patience = self.patience.unwrap_or(recipe.patience);
        recipe.shuffle_buffer = self.shuffle_buffer.unwrap_or(recipe.shuffle_buffer);
        recipe.seed = self.seed.unwrap_or(recipe.seed);
        recipe.devices = self.devices.unwrap_or(recipe.devices);
        recipe.precision = self.precision.unwrap_or(recipe.precision);
        recipe.micro_batch_size = self.micro_batch_size.or(recipe.micro_batch_size);
        recipe.keep_checkpoints = self.keep_checkpoints.unwrap_or(recipe.keep_checkpoints);
        recipe.dropout = self.dropout.or(recipe.dropout);
        recipe.validate()?;
        Ok(recipe)
    }
}

impl Default for Recipe {
    fn default() -> Self {
        Self {
            arch: "crmnet".into(),
            max_epochs: 100,
            batch_size: 1024,
            warmup_epochs: 10,
            lr_start: 1e-4,
            lr_peak: 1e-3,
            patience: 10,
            huber_delta: 1.0,
            shuffle_buffer: 100_000,
            valid_permille: 100,
            seed: 0,
            devices: 1,
            precision: Precision::F32,
            micro_batch_size: None,
            keep_checkpoints: false,
            dropout: None,
        }
    }
}

impl Recipe {
    pub fn from_file(path: &Path) -> Result<Self> {
        let name = path.display();
        let text = std::fs::read_to_string(path).with_context(|| format!("{name}: cannot read"))?;
        let recipe: Recipe = if path.extension().is_some_and(|e| e == "toml") {
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{name}: {e}"))?
        } else {
            serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{name}:{}: {e}", e.line()))?
        };
        // Checked here too, so that a bad value is blamed on its file, not on the flags.
        recipe
            .validate()
            .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        Ok(recipe)
    }

    pub fn validate(&self) -> Result<()> {
        if self.batch_size == 0
            || self.max_epochs == 0
            || self.shuffle_buffer == 0
            || self.devices == 0
        {
            bail!("batch_size, max_epochs, shuffle_buffer and devices must be positive");
        }
        if self.micro_batch_size == Some(0) {
            bail!("micro_batch_size must be positive");
        }

        if !(self.lr_start > 0.0 && self.lr_peak > 0.0) {
            bail!("learning rates must be positive");
        }
        if self.dropout.is_some_and(|rate| !(0.0..1.0).contains(&rate)) {
            bail!("dropout must lie in [0, 1)");
        }
        if self.valid_permille >= 1000 {
            bail!("valid_permille must be below 1000");
        }
        Ok(())
    }

    /// Learning rate of an epoch (0-based), scaled by the number of devices as the paper does.
    pub fn learning_rate(&self, epoch: usize, devices: usize) -> f64 {
        let (start, peak) = (
            self.lr_start * devices as f64,
            self.lr_peak * devices as f64,
        );
        if epoch < self.warmup_epochs {
            return start + (peak - start) * epoch as f64 / self.warmup_epochs as f64;
        }
        let decay_epochs = self.max_epochs.saturating_sub(self.warmup_epochs).max(1);
        let progress = ((epoch - self.warmup_epochs) as f64 / decay_epochs as f64).min(1.0);
        start + (peak - start) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_up_then_cosine_back_to_the_start() {
        let recipe = Recipe {
            max_epochs: 30,
            ..Recipe::default()
        };
        assert!((recipe.learning_rate(0, 1) - 1e-4).abs() < 1e-12);
        assert!((recipe.learning_rate(5, 1) - 5.5e-4).abs() < 1e-12);
        assert!((recipe.learning_rate(10, 1) - 1e-3).abs() < 1e-12);
        assert!((recipe.learning_rate(20, 1) - 5.5e-4).abs() < 1e-12);
        assert!((recipe.learning_rate(30, 8) - 8e-4).abs() < 1e-12);
    }

    /// The recipe files users are pointed to (train/*.toml) read and validate.
    #[test]
    fn the_shipped_recipe_files_are_valid() {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("train");
        let mut read = Vec::new();
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let recipe = Recipe::from_file(&path).unwrap();
                recipe.validate().unwrap();
                read.push(path.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
        assert!(read.contains(&"distill-swa.toml".to_string()), "{read:?}");
        // Checkpoint averaging needs every epoch, at the one learning rate.
        let swa = Recipe::from_file(&folder.join("distill-swa.toml")).unwrap();
        assert!(swa.keep_checkpoints && swa.lr_start == swa.lr_peak);
    }
}
