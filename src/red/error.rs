//! What can go wrong with a RED call, and which of it may pass.
//!
//! RED publishes no error codes: what its messages say decides ("建议基于错误信息字段的关键字来
//! 判断", its documents advise). A fault that may pass is retried (with backoff, then at the
//! next round) and never reaches a person; a refusal does, in RED's words.

#[derive(Debug, Clone, thiserror::Error)]
pub enum RedError {
    /// `success` false: RED's code and message as given (RED publishes no code list).
    #[error("RED {method}: error {code}: {message}")]
    Api {
        method: String,
        code: String,
        message: String,
    },
    #[error("RED {method}: {message}")]
    Transport { method: String, message: String },
    /// An answer that cannot be used: not JSON, cut short, of the wrong shape.
    #[error("RED {method}: {message}")]
    Answer { method: String, message: String },
    /// Personal fields of an order that could not be decrypted: the first one's place in
    /// the input document (`receiver.receiverInfos[0].receiverName`) and why.
    #[error("RED data.batchDecrypt: cannot decrypt {field}: {why}{}", more_fields(*.more))]
    Decrypt {
        field: String,
        why: String,
        more: usize,
    },
    /// Not sent: the request bondmap built lacks what RED requires.
    #[error("RED {method}: not sent: {message}")]
    NotSent { method: String, message: String },
    /// RED's own record contradicts what bondmap would tell it (shipped under another
    /// tracking number): a person decides.
    #[error("RED {method}: {message}")]
    Conflict { method: String, message: String },
    /// RED refused or expired the authorization (or there is no token): no call is made
    /// until new tokens are kept.
    #[error("RED authorization expired: authorize the app again, then `bondmap auth --code CODE`")]
    Unauthorized,
}

/// RED publishes no error codes: what its messages say decides. Words of an answer that
/// asks to try again (busy, rate limited, a timeout on its side).
const TRY_AGAIN: &[&str] = &[
    "繁忙",
    "稍后",
    "限流",
    "频繁",
    "超时",
    "系统异常",
    "系统错误",
    "服务异常",
    "busy",
    "try again",
    "retry later",
    "rate limit",
    "too many",
    "timeout",
    "timed out",
    "internal error",
];

/// Words of a rate-limit answer (the limiter slows down on it).
pub(super) const RATE: &[&str] = &["限流", "频繁", "rate limit", "too many"];

/// Words of a token error. RED's documents tell keywords rather than codes ("根据accessToken
/// 和appId获取mercuryUser失败：accessToken expired"); any message naming the token, or an
/// expired authorization, is one.
const TOKEN: &[&str] = &["token", "授权过期", "授权已过期", "授权失效", "mercuryuser"];

pub(super) fn says(message: &str, words: &[&str]) -> bool {
    let lower = message.to_lowercase();
    words.iter().any(|w| lower.contains(w))
}

impl RedError {
    /// A fault that may pass: retried (with backoff, then at the next round), never a
    /// person's problem. The rest are refusals and mistakes a person must see.
    pub fn is_passing(&self) -> bool {
        match self {
            RedError::Transport { .. }
            | RedError::Answer { .. }
            | RedError::Decrypt { .. }
            | RedError::Unauthorized => true,
            RedError::Api { .. } => self.says_try_again() || self.is_token_error(),
            RedError::NotSent { .. } | RedError::Conflict { .. } => false,
        }
    }

    /// RED refused the access token a call carried (never said of the OAuth calls, whose
    /// token errors are refusals of the refresh token or the code).
    pub fn is_token_error(&self) -> bool {
        match self {
            RedError::Api {
                method, message, ..
            } => !method.starts_with("oauth.") && says(message, TOKEN),
            _ => false,
        }
    }

    /// RED asked to try again later (busy, rate limited).
    pub(super) fn says_try_again(&self) -> bool {
        matches!(self, RedError::Api { message, .. } if says(message, TRY_AGAIN))
    }

    /// The method the error is of (`None`: authorization).
    pub fn method(&self) -> Option<&str> {
        match self {
            RedError::Api { method, .. }
            | RedError::Transport { method, .. }
            | RedError::Answer { method, .. }
            | RedError::NotSent { method, .. }
            | RedError::Conflict { method, .. } => Some(method),
            RedError::Decrypt { .. } => Some("data.batchDecrypt"),
            RedError::Unauthorized => None,
        }
    }
}

fn more_fields(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => " (and 1 more field)".into(),
        n => format!(" (and {n} more fields)"),
    }
}
