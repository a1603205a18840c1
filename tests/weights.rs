use burn::module::Module;
use burn::prelude::*;
use burn::tensor::TensorData;
use crmnet::data::alphabet;
use crmnet::inference::Predictor;
use crmnet::model::{Architecture, CrmnetConfig, Network};
use crmnet::weights::{self, ModelCard, WeightsError};

fn small_config() -> CrmnetConfig {
    CrmnetConfig::web()
}

fn model_and_card(config: &CrmnetConfig) -> (Network, ModelCard) {
    let architecture = Architecture::Crmnet(config.clone());
    let model = Network::new(&architecture, &Device::flex()).unwrap();
    let card = ModelCard::describe("crmnet-web", &architecture, &model);
    (model, card)
}

fn load(bytes: Vec<u8>) -> Result<(Network, ModelCard), WeightsError> {
    weights::from_bytes(bytes, "w.bpk", &Device::flex())
}

#[test]
fn saved_weights_reload_to_identical_predictions_and_card() {
    let config = small_config();
    let (model, mut card) = model_and_card(&config);
    card.trained = true;
    card.training_data = "unit test".into();
    let sequence = alphabet::channels("TGCATTTTTTTCACATCAAAAAAAAAAAGAAAAACAAAG").unwrap();
    let before = Predictor::new(model.clone(), card.clone(), Device::flex())
        .predict(std::iter::once(sequence.as_slice()))
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.bpk");
    weights::save(model, &card, &path).unwrap();
    let (loaded, loaded_card) = weights::load(&path, &Device::flex()).unwrap();
    assert_eq!(loaded_card, card);
    let after = Predictor::new(loaded, loaded_card, Device::flex())
        .predict(std::iter::once(sequence.as_slice()))
        .unwrap();
    assert_eq!(before, after);
}

#[test]
fn truncated_or_corrupted_files_are_errors_not_panics() {
    let (model, card) = model_and_card(&small_config());
    let bytes = weights::to_bytes(model, &card).unwrap();
    for cut in [0, 3, 10, 200, bytes.len() / 2, bytes.len() - 1] {
        let Err(error) = load(bytes[..cut].to_vec()) else {
            panic!("file cut at {cut} accepted")
        };
        assert!(
            matches!(error, WeightsError::Format { .. }),
            "cut at {cut}: {error}"
        );
        assert!(error.to_string().starts_with("w.bpk: "), "{error}");
    }
    let mut scrambled = bytes.clone();
    for byte in scrambled.iter_mut().skip(10).take(64) {
        *byte ^= 0x5a;
    }
    assert!(load(scrambled).is_err());
    assert!(load(b"not weights at all".to_vec()).is_err());
}

#[test]
fn a_card_that_does_not_describe_the_tensors_is_refused() {
    let config = small_config();
    let (model, _) = model_and_card(&config);
    let other = config.clone().with_heads(2);
    let (_, wrong_card) = model_and_card(&other);
    let error = load(weights::to_bytes(model, &wrong_card).unwrap())
        .err()
        .unwrap();
    assert!(matches!(error, WeightsError::Mismatch { .. }), "{error}");
    assert!(
        error.to_string().contains("do not match the architecture"),
        "{error}"
    );
}

#[test]
fn other_card_versions_and_cardless_burnpacks_are_refused() {
    let (model, mut card) = model_and_card(&small_config());
    card.card_version = 99;
    let error = load(weights::to_bytes(model.clone(), &card).unwrap())
        .err()
        .unwrap();
    assert!(
        matches!(error, WeightsError::Version { found: 99, .. }),
        "{error}"
    );

    let plain = model.into_record().into_bytes().unwrap().to_vec();
    assert!(matches!(
        load(plain).err().unwrap(),
        WeightsError::NoCard { .. }
    ));
}

#[test]
fn an_unwritable_destination_is_an_error() {
    let (model, card) = model_and_card(&small_config());
    let error =
        weights::save(model, &card, std::path::Path::new("/nonexistent/dir/w.bpk")).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("/nonexistent/dir/w.bpk: cannot write"),
        "{error}"
    );
}

/// Every tensor of `model` as floats, by name.
fn tensors(model: Network, card: &ModelCard) -> Vec<(String, Vec<f32>)> {
    let bytes = weights::to_bytes(model, card).unwrap();
    burn_pack::Reader::from_bytes(burn_pack::Bytes::from_bytes_vec(bytes))
        .and_then(burn_pack::Reader::into_tensors)
        .unwrap()
        .into_iter()
        .map(|tensor| {
            let data = TensorData::from_bytes(
                tensor.to_bytes().unwrap(),
                tensor.shape.clone(),
                tensor.dtype,
            );
            (tensor.name, data.try_to_vec::<f32>().unwrap())
        })
        .collect()
}

#[test]
fn averaged_weights_are_the_parameter_wise_mean_and_name_their_sources() {
    let config = small_config();
    let (first, mut card) = model_and_card(&config);
    let (second, _) = model_and_card(&config);
    card.metrics.insert(
        "valid".into(),
        crmnet::metrics::Metrics::compute(&[1.0, 2.0, 4.0], &[1.0, 3.0, 4.0]),
    );
    let named = |model: &Network, name: &str| (model.clone(), card.clone(), name.to_string());
    let (mean, mean_card) = weights::mean_of(
        vec![named(&first, "a.bpk"), named(&second, "b.bpk")],
        &Device::flex(),
    )
    .unwrap();
    let (a, b) = (tensors(first.clone(), &card), tensors(second, &card));
    let averaged = tensors(mean, &mean_card);
    assert_eq!(averaged.len(), a.len());
    let mut differing = 0;
    for (((name, mean), (_, a)), (_, b)) in averaged.iter().zip(&a).zip(&b) {
        for ((m, x), y) in mean.iter().zip(a).zip(b) {
            assert!((m - (x + y) / 2.0).abs() <= 1e-6, "{name}: {m} vs {x}, {y}");
            differing += usize::from(x != y);
        }
    }
    assert!(differing > 1000, "the two networks should differ");
    assert!(mean_card.metrics.is_empty(), "metrics of one file dropped");
    assert_eq!(
        mean_card.training_recipe["averaged_from"],
        serde_json::json!(["a.bpk", "b.bpk"])
    );

    // Weights of another architecture are refused, naming the file.
    let (other, other_card) = model_and_card(&config.clone().with_heads(2));
    let error = weights::mean_of(
        vec![
            named(&first, "a.bpk"),
            (other, other_card, "other.bpk".into()),
        ],
        &Device::flex(),
    )
    .err()
    .unwrap();
    assert!(
        matches!(&error, WeightsError::Mismatch { path, .. } if path == "other.bpk"),
        "{error}"
    );
}
