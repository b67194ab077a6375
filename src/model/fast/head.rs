//! The classification heads on plain slices, one row at a time. Each row's
//! numbers come from fixed-order sums, so a text scores the same bit for bit
//! whatever else is in its batch: shard outputs then merge into exactly what
//! one machine writes. (candle's matmul blocks by batch size, which moves
//! the last digits.)

use super::encoder::Pooled;
use super::rows::dot;
use crate::model::head::Head;
use crate::model::linear::Linear;
use crate::model::ModelError;

/// A dense layer as plain rows: `out[j] = b[j] + W[j] · x`.
struct Dense {
    weight: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
}

impl Dense {
    fn from(l: &Linear) -> Result<Self, ModelError> {
        let inputs = l.weight.dims()[1];
        let weight = l.weight.flatten_all()?.to_vec1::<f32>()?;
        let bias = match &l.bias {
            Some(b) => b.to_vec1::<f32>()?,
            None => vec![0.0; l.out_dim()],
        };
        Ok(Self {
            weight,
            bias,
            inputs,
        })
    }

    fn apply(&self, x: &[f32]) -> Vec<f32> {
        self.bias
            .iter()
            .zip(self.weight.chunks_exact(self.inputs))
            .map(|(b, w)| b + dot(w, x))
            .collect()
    }
}

/// Which hidden state a head reads and what it does with it.
enum Kind {
    /// calltone: mean → classes, and → tanh intensity.
    Calltone { classes: Dense, intensity: Dense },
    /// first token → dense → `act` → classifier (BERT: tanh, RoBERTa: tanh,
    /// DistilBERT: ReLU).
    Pooler {
        dense: Dense,
        relu: bool,
        classifier: Dense,
    },
}

pub struct FastHead {
    kind: Kind,
}

/// Class probabilities per row, and intensity per row when the head has one.
pub type HeadRows = (Vec<Vec<f32>>, Option<Vec<f32>>);

impl FastHead {
    pub fn from_head(head: &Head) -> Result<Self, ModelError> {
        let kind = match head {
            Head::Calltone { classes, intensity } => Kind::Calltone {
                classes: Dense::from(classes)?,
                intensity: Dense::from(intensity)?,
            },
            Head::BertPooler { pooler, classifier } => Kind::Pooler {
                dense: Dense::from(pooler)?,
                relu: false,
                classifier: Dense::from(classifier)?,
            },
            Head::Roberta { dense, out_proj } => Kind::Pooler {
                dense: Dense::from(dense)?,
                relu: false,
                classifier: Dense::from(out_proj)?,
            },
            Head::DistilBert { pre, classifier } => Kind::Pooler {
                dense: Dense::from(pre)?,
                relu: true,
                classifier: Dense::from(classifier)?,
            },
        };
        Ok(Self { kind })
    }

    pub fn forward(&self, pooled: &Pooled, hidden: usize) -> HeadRows {
        let rows = pooled.mean.len() / hidden.max(1);
        let row = |v: &'_ [f32], i: usize| -> Vec<f32> { v[i * hidden..(i + 1) * hidden].to_vec() };
        match &self.kind {
            Kind::Calltone { classes, intensity } => {
                let mut probs = Vec::with_capacity(rows);
                let mut strength = Vec::with_capacity(rows);
                for i in 0..rows {
                    let x = row(&pooled.mean, i);
                    probs.push(softmax(&classes.apply(&x)));
                    strength.push(intensity.apply(&x)[0].tanh());
                }
                (probs, Some(strength))
            }
            Kind::Pooler {
                dense,
                relu,
                classifier,
            } => {
                let probs = (0..rows)
                    .map(|i| {
                        let mut h = dense.apply(&row(&pooled.first, i));
                        for v in &mut h {
                            *v = if *relu { v.max(0.0) } else { v.tanh() };
                        }
                        softmax(&classifier.apply(&h))
                    })
                    .collect();
                (probs, None)
            }
        }
    }
}

fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
    let total: f32 = e.iter().sum();
    e.iter().map(|v| v / total).collect()
}
