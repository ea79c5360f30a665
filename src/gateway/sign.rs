//! `data_digest = base64(MD5(logistics_interface + secretKey))`, over the exact UTF-8
//! bytes that are sent.

use base64::Engine as _;
use md5::{Digest, Md5};

pub fn data_digest(logistics_interface: &str, secret_key: &str) -> String {
    let mut h = Md5::new();
    h.update(logistics_interface.as_bytes());
    h.update(secret_key.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::data_digest;

    // Vectors computed apart, with Python:
    // base64.b64encode(hashlib.md5((s + k).encode("utf-8")).digest())
    #[test]
    fn digest_vectors() {
        assert_eq!(
            data_digest("{\"externalOrderCode\":\"P1\"}", "secret123"),
            "vjc4oVej4qSAWa3orqzhRQ=="
        );
        assert_eq!(
            data_digest(
                "{\"receiverInfo\":{\"name\":\"张三\",\"city\":\"杭州市\"}}",
                "a8Kx!9"
            ),
            "jqoyWJfh14bKKb0g1FMqsA=="
        );
        assert_eq!(data_digest("", "k"), "jOSxayK1iJSqhsQh6HWd8w==");
    }
}
