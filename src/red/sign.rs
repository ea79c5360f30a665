//! RED's sign: lowercase hex MD5 of
//! `method?appId=…&timestamp=…&version=…` followed by the app secret.
//! The access token and the method's own fields are not signed.

use md5::{Digest, Md5};

pub fn sign(
    method: &str,
    app_id: &str,
    timestamp: &str,
    version: &str,
    app_secret: &str,
) -> String {
    let mut h = Md5::new();
    h.update(
        format!("{method}?appId={app_id}&timestamp={timestamp}&version={version}{app_secret}")
            .as_bytes(),
    );
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::sign;

    #[test]
    fn vectors() {
        // From the reference (computed with Python's hashlib).
        assert_eq!(
            sign(
                "order.getOrderList",
                "4a7f2c9e1b3d5f60",
                "1795226400",
                "2.0",
                "9d2b7e41c0a3f58e6b1d4c7a2e9f0b35"
            ),
            "d8451c6a74fee40a68c69773cf52f9f2"
        );
        // The Python SDK's own test vector.
        assert_eq!(
            sign(
                "oauth.getAccessToken",
                "test-app",
                "1700000000",
                "1.0",
                "secret-key"
            ),
            "15dd91e56a77df52c8a652a43a7c131e"
        );
        // One more, computed apart with hashlib.md5(...).hexdigest().
        assert_eq!(
            sign(
                "order.getOrderDetail",
                "red-app-1",
                "1795300000",
                "2.0",
                "s3cr3t-red"
            ),
            "926dbd56f1eb9c61f071d991ed355296"
        );
    }
}
