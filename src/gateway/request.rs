//! The form the gateway takes. The exact `logistics_interface` string given is signed
//! and sent; it is never serialized again.

use super::config::Secret;
use super::sign::data_digest;

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
