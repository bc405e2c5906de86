//! QR codes as SVG for pages (registration links, personal codes).

use fast_qr::convert::Builder;
use fast_qr::convert::svg::SvgBuilder;
use fast_qr::qr::QRBuilder;

use crate::error::AppError;

/// An SVG QR code of `text`, error correction level M, with the standard quiet zone.
pub fn svg(text: &str) -> Result<String, AppError> {
    let code = QRBuilder::new(text)
        .ecl(fast_qr::ECL::M)
        .build()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("QR code: {e:?}")))?;
    Ok(SvgBuilder::default().margin(4).to_str(&code))
}

/// What a personal QR code holds: a signed token naming the person, never the ID number.
pub fn personal_payload(token: &str) -> String {
    format!("VXL1:{token}")
}
