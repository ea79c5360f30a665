//! The form the gateway takes. The exact `logistics_interface` string given is signed
//! and sent; it is never serialized again. Every request is made by one constructor:
//! a mapping's [`Envelope`] (its settings and the gateway's, made once) around the text a
//! run wrote.

use super::config::{GatewayConfig, Secret};
use super::sign::data_digest;
use crate::program::Settings;

/// What every request of one mapping carries besides its text: who sends it, which
/// message it is, to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub logistic_provider_id: String,
    pub msg_type: String,
    pub to_code: Option<String>,
}

impl Envelope {
    /// The envelope of a mapping with `settings` sent with the gateway settings `cfg`:
    /// the mapping's `logistic_provider_id`, else the app key (the CP code).
    pub fn of(settings: &Settings, cfg: &GatewayConfig) -> Envelope {
        Envelope {
            logistic_provider_id: settings
                .logistic_provider_id
                .clone()
                .unwrap_or_else(|| cfg.app_key.expose().to_string()),
            msg_type: settings.msg_type.clone(),
            to_code: settings.to_code.clone(),
        }
    }

    /// The request sending `logistics_interface`, the exact text a run wrote.
    pub fn request(&self, logistics_interface: String) -> GatewayRequest {
        GatewayRequest {
            logistic_provider_id: self.logistic_provider_id.clone(),
            msg_type: self.msg_type.clone(),
            logistics_interface,
            to_code: self.to_code.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayRequest {
    pub logistic_provider_id: String,
    pub msg_type: String,
    pub logistics_interface: String,
    pub to_code: Option<String>,
}

impl GatewayRequest {
    /// The form fields in the gateway's order, `data_digest` computed.
    pub fn form_fields(&self, secret: &Secret) -> Vec<(&'static str, String)> {
        let mut f = vec![
            ("logistic_provider_id", self.logistic_provider_id.clone()),
            ("msg_type", self.msg_type.clone()),
            ("logistics_interface", self.logistics_interface.clone()),
            (
                "data_digest",
                data_digest(&self.logistics_interface, secret.expose()),
            ),
        ];
        if let Some(t) = &self.to_code {
            f.push(("to_code", t.clone()));
        }
        f
    }

    /// `application/x-www-form-urlencoded`, UTF-8.
    pub fn form_body(&self, secret: &Secret) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.form_fields(secret) {
            s.append_pair(k, &v);
        }
        s.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mapping's provider id wins; without one the app key is the provider.
    #[test]
    fn the_envelope_takes_the_mappings_settings_then_the_app_key() {
        let cfg = GatewayConfig::from_sources(
            |k| match k {
                "CAINIAO_APP_KEY" => Some("APPKEY1".into()),
                "CAINIAO_SECRET_KEY" => Some("a-secret-of-some-length-0123456789".into()),
                _ => None,
            },
            None,
        )
        .unwrap();
        let mut settings = Settings {
            msg_type: "CN_WMS_DELIVERYORDER_CREATE".into(),
            logistic_provider_id: None,
            to_code: Some("WH1".into()),
        };
        let r = Envelope::of(&settings, &cfg).request("{}".into());
        assert_eq!(
            r,
            GatewayRequest {
                logistic_provider_id: "APPKEY1".into(),
                msg_type: "CN_WMS_DELIVERYORDER_CREATE".into(),
                logistics_interface: "{}".into(),
                to_code: Some("WH1".into()),
            }
        );
        settings.logistic_provider_id = Some("CP9".into());
        let e = Envelope::of(&settings, &cfg);
        assert_eq!(e.request("x".into()).logistic_provider_id, "CP9");
    }

    #[test]
    fn form_body_encodes_the_exact_interface() {
        let r = GatewayRequest {
            logistic_provider_id: "CP1".into(),
            msg_type: "CN_WMS_DELIVERYORDER_CREATE".into(),
            logistics_interface: "{\"a\":\"张 &=\"}".into(),
            to_code: None,
        };
        let body = r.form_body(&Secret::new("s"));
        let back: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(
            back[2],
            (
                "logistics_interface".to_string(),
                "{\"a\":\"张 &=\"}".to_string()
            )
        );
        assert_eq!(back[3].1, data_digest("{\"a\":\"张 &=\"}", "s"));
        assert_eq!(back.len(), 4);
    }
}
