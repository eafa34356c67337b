//! A ticket code as a QR image: SVG from `qrcode`'s renderer, PNG written from its module
//! matrix with the `png` crate (qrcode's `image` feature would pull in the whole image crate
//! for one grey-scale file).

use qrcode::{Color, EcLevel, QrCode};

/// Pixels per module of the PNG: about 4 cm at 150 dpi for a 37-module code, plenty for a
/// phone screen or a printer.
const PNG_MODULE_PX: usize = 8;
/// Light modules around the code, as the standard asks.
const QUIET_ZONE: usize = 4;

fn qr(code: &str) -> Result<QrCode, String> {
    // Medium error correction: survives a scratched print or a cracked screen, and a 178-byte
    // code still fits version 9.
    QrCode::with_error_correction_level(code.as_bytes(), EcLevel::M).map_err(|e| e.to_string())
}

/// The SVG document of `code`.
pub fn svg(code: &str) -> Result<String, String> {
    Ok(qr(code)?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}

/// The PNG (8-bit grey) of `code`.
pub fn png(code: &str) -> Result<Vec<u8>, String> {
    let qr = qr(code)?;
    let modules = qr.width();
    let colors = qr.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * PNG_MODULE_PX;
    let mut pixels = vec![0xffu8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + QUIET_ZONE, i / modules + QUIET_ZONE);
        for y in my * PNG_MODULE_PX..(my + 1) * PNG_MODULE_PX {
            let row = y * side;
            pixels[row + mx * PNG_MODULE_PX..row + (mx + 1) * PNG_MODULE_PX].fill(0);
        }
    }
    let side = u32::try_from(side).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn images_are_made_for_a_long_code() {
        let code = format!("CF1.{}", "A".repeat(174));
        assert!(super::svg(&code).expect("svg").starts_with("<?xml"));
        assert!(super::png(&code).expect("png").starts_with(b"\x89PNG"));
    }
}
