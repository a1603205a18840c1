//! The bidirectional LSTM of DeepAtt, with Keras' gate conventions: gates in the order input,
//! forget, cell, output in one `4 x units` projection with a single bias, and `hard_sigmoid`
//! (`clip(0.2 x + 0.5, 0, 1)`) on the input, forget and output gates, the recurrent activation
//! the published weights were trained with (burn's own LSTM uses the logistic sigmoid).

use burn::module::Param;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{hard_sigmoid, tanh};

use super::layers::he_normal;

const HARD_SIGMOID_SLOPE: f64 = 0.2;
const HARD_SIGMOID_OFFSET: f64 = 0.5;

/// One direction: `[batch, steps, inputs]` in, the hidden state of every step out.
#[derive(Module, Debug)]
pub struct HardSigmoidLstm {
    /// Keras' `kernel` and `bias`: the input's contribution to the four gates.
    input: Linear,
    /// Keras' `recurrent_kernel`, `[units, 4 x units]`.
    recurrent: Param<Tensor<2>>,
    units: usize,
}

impl HardSigmoidLstm {
    /// Keras' initialisation: He-normal input kernel, orthogonal recurrent kernel, zero bias but
    /// for the forget gate's, which starts at one (`unit_forget_bias`).
    pub fn new(inputs: usize, units: usize, device: &Device) -> Self {
        let mut input = LinearConfig::new(inputs, 4 * units)
            .with_initializer(he_normal())
            .init(device);
        let forget_bias: Vec<f32> = (0..4 * units)
            .map(|i| {
                if (units..2 * units).contains(&i) {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        input.bias = Some(Param::from_tensor(Tensor::from_floats(
            forget_bias.as_slice(),
            device,
        )));
        let recurrent = Initializer::Orthogonal { gain: 1.0 }.init([units, 4 * units], device);
        Self {
            input,
            recurrent,
            units,
        }
    }

    /// Hidden states `[batch, steps, units]`, each at its own step; `reverse` reads the steps
    /// from last to first (the backward half of a bidirectional layer) and still returns them
    /// in input order, as Keras' `Bidirectional` does.
    pub fn forward(&self, x: Tensor<3>, reverse: bool) -> Tensor<3> {
        let [batch, steps, _] = x.dims();
        let device = x.device();
        let units = self.units;
        let projected = self.input.forward(x);
        let recurrent = self.recurrent.val();
        let mut hidden = Tensor::<2>::zeros([batch, units], &device);
        let mut cell = Tensor::<2>::zeros([batch, units], &device);
        let mut outputs: Vec<Option<Tensor<2>>> = vec![None; steps];
        let order: Vec<usize> = if reverse {
            (0..steps).rev().collect()
        } else {
            (0..steps).collect()
        };
        for step in order {
            let gates = projected
                .clone()
                .narrow(1, step, 1)
                .reshape([batch, 4 * units])
                + hidden.matmul(recurrent.clone());
            let [input, forget, candidate, output]: [Tensor<2>; 4] = gates
                .chunk(4, 1)
                .try_into()
                .expect("four gates of equal width");
            let gate = |z| hard_sigmoid(z, HARD_SIGMOID_SLOPE, HARD_SIGMOID_OFFSET);
            cell = gate(forget) * cell + gate(input) * tanh(candidate);
            hidden = gate(output) * tanh(cell.clone());
            outputs[step] = Some(hidden.clone());
        }
        Tensor::stack(outputs.into_iter().flatten().collect(), 1)
    }
}

/// Forward and backward LSTMs over the same steps, outputs concatenated (forward first).
#[derive(Module, Debug)]
pub struct BidirectionalLstm {
    pub(crate) forward: HardSigmoidLstm,
    pub(crate) backward: HardSigmoidLstm,
}

impl BidirectionalLstm {
    pub fn new(inputs: usize, units: usize, device: &Device) -> Self {
        Self {
            forward: HardSigmoidLstm::new(inputs, units, device),
            backward: HardSigmoidLstm::new(inputs, units, device),
        }
    }

    /// `[batch, steps, inputs]` to `[batch, steps, 2 x units]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        Tensor::cat(
            vec![
                self.forward.forward(x.clone(), false),
                self.backward.forward(x, true),
            ],
            2,
        )
    }
}
