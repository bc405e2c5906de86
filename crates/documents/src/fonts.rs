//! The CJK font every document and chart uses, compiled into the binary: WenQuanYi Micro Hei
//! (文泉驿微米黑), Apache-2.0 or GPL-3+ with the font exception — see `fonts/wqy-microhei.COPYRIGHT`.

/// The font collection (TrueType outlines); face 0 is Micro Hei.
pub static CJK: &[u8] = include_bytes!("../fonts/wqy-microhei.ttc");
