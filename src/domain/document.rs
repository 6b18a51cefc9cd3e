//! Uploaded documents (quality plans): only PDF, DOCX or XLSX, recognised by their content rather than
//! their name, at most 20 MB, and a safe name to serve them under.

use std::io::Cursor;

use serde::Serialize;

/// The largest document we keep, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 20 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Pdf,
    Docx,
    Xlsx,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 3] = [DocumentKind::Pdf, DocumentKind::Docx, DocumentKind::Xlsx];

    pub fn code(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "pdf",
            DocumentKind::Docx => "docx",
            DocumentKind::Xlsx => "xlsx",
        }
    }

    pub fn parse(code: &str) -> Option<DocumentKind> {
        DocumentKind::ALL.into_iter().find(|k| k.code() == code)
    }

    pub fn extension(self) -> &'static str {
        self.code()
    }

    pub fn label(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "PDF",
            DocumentKind::Docx => "Word-document (DOCX)",
            DocumentKind::Xlsx => "Excel-werkmap (XLSX)",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "application/pdf",
            DocumentKind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            DocumentKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// What the bytes are, whatever the name says: `%PDF-` at the start, or a zip archive holding
/// `word/document.xml` (DOCX) or `xl/workbook.xml` (XLSX). Only the zip's directory is read, never
/// its contents, so a zip bomb costs nothing here.
pub fn sniff(bytes: &[u8]) -> Option<DocumentKind> {
    if bytes.starts_with(b"%PDF-") {
        return Some(DocumentKind::Pdf);
    }
    if !bytes.starts_with(b"PK\x03\x04") {
        return None;
    }
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    if archive.index_for_name("word/document.xml").is_some() {
        Some(DocumentKind::Docx)
    } else if archive.index_for_name("xl/workbook.xml").is_some() {
        Some(DocumentKind::Xlsx)
    } else {
        None
    }
}

fn megabytes(n: usize) -> String {
    let tenths = (n as u64 * 10).div_ceil(1024 * 1024);
    format!("{},{} MB", tenths / 10, tenths % 10)
}

/// Checks an upload of `size` bytes (the bytes kept may stop at the limit) named `file_name`.
/// The name's extension must be .pdf, .docx or .xlsx and the content must be what it says.
pub fn check_upload(file_name: &str, bytes: &[u8], size: usize) -> Result<DocumentKind, String> {
    let name = file_name.trim();
    if name.is_empty() && size == 0 {
        return Err("Kies een bestand: het kwaliteitsplan als PDF, DOCX of XLSX.".into());
    }
    if size == 0 {
        return Err(format!("Het bestand '{name}' is leeg (0 bytes). Kies het juiste bestand."));
    }
    if size > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "Het bestand '{name}' is {}; een kwaliteitsplan mag hoogstens 20 MB zijn. Verklein het bestand (bijvoorbeeld als PDF opslaan).",
            megabytes(size)
        ));
    }
    let claimed = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .and_then(|ext| DocumentKind::parse(&ext))
        .ok_or_else(|| {
            format!("Het bestand '{name}' is geen PDF, DOCX of XLSX; alleen die soorten worden aangenomen.")
        })?;
    match sniff(bytes) {
        Some(actual) if actual == claimed => Ok(actual),
        Some(actual) => Err(format!(
            "Het bestand '{name}' heet een {} maar is een {}. Geef het de juiste naam of kies het juiste bestand.",
            claimed.label(),
            actual.label()
        )),
        None => Err(format!(
            "Het bestand '{name}' heet een {} maar de inhoud is dat niet (en ook geen ander PDF-, DOCX- of XLSX-bestand).",
            claimed.label()
        )),
    }
}

/// A `Content-Disposition` that cannot be turned into header injection or a path: an ASCII fallback
/// name of letters, digits, dots, dashes and underscores, plus the original as RFC 5987 UTF-8, and
/// always the extension that matches the content.
pub fn content_disposition(file_name: &str, kind: DocumentKind) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or("");
    let stem = base.rsplit_once('.').map(|(s, _)| s).unwrap_or(base);
    let ascii: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' })
        .take(100)
        .collect();
    let ascii = ascii.trim_matches(['.', '_']);
    let ascii = if ascii.is_empty() { "kwaliteitsplan" } else { ascii };
    let unicode: String = stem.chars().filter(|c| !c.is_control()).take(100).collect();
    let unicode = if unicode.trim().is_empty() { ascii } else { unicode.trim() };
    let encoded = urlencoding::encode(&format!("{unicode}.{}", kind.extension())).into_owned();
    format!("attachment; filename=\"{ascii}.{ext}\"; filename*=UTF-8''{encoded}", ext = kind.extension())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A minimal zip holding the named (empty) entries.
    pub fn zip_with(entries: &[&str]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for e in entries {
            w.start_file(*e, zip::write::SimpleFileOptions::default()).unwrap();
            w.write_all(b"<x/>").unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn documents_are_recognised_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(DocumentKind::Pdf));
        assert_eq!(sniff(&zip_with(&["[Content_Types].xml", "word/document.xml"])), Some(DocumentKind::Docx));
        assert_eq!(sniff(&zip_with(&["xl/workbook.xml"])), Some(DocumentKind::Xlsx));
        assert_eq!(sniff(&zip_with(&["readme.txt"])), None);
        assert_eq!(sniff(b"MZ\x90\x00"), None);
        assert_eq!(sniff(b"PK\x03\x04 broken"), None);
    }

    #[test]
    fn an_upload_must_be_what_its_name_says() {
        let pdf = b"%PDF-1.4 test".to_vec();
        assert_eq!(check_upload("plan.PDF", &pdf, pdf.len()), Ok(DocumentKind::Pdf));
        let e = check_upload("plan.docx", &pdf, pdf.len()).unwrap_err();
        assert_eq!(
            e,
            "Het bestand 'plan.docx' heet een Word-document (DOCX) maar is een PDF. Geef het de juiste naam of kies het juiste bestand."
        );
        assert!(check_upload("plan.pdf", b"hello", 5).unwrap_err().contains("de inhoud is dat niet"));
        assert!(check_upload("plan.exe", &pdf, pdf.len()).unwrap_err().contains("geen PDF, DOCX of XLSX"));
        assert!(check_upload("plan.pdf", b"", 0).unwrap_err().contains("is leeg"));
        let e = check_upload("groot.pdf", &pdf, MAX_DOCUMENT_BYTES + 1).unwrap_err();
        assert!(e.contains("20,1 MB") && e.contains("hoogstens 20 MB"), "{e}");
        assert!(check_upload("precies.pdf", &pdf, MAX_DOCUMENT_BYTES).is_ok());
    }

    #[test]
    fn the_download_name_is_safe() {
        assert_eq!(
            content_disposition("Kwaliteitsplan 2024.pdf", DocumentKind::Pdf),
            "attachment; filename=\"Kwaliteitsplan_2024.pdf\"; filename*=UTF-8''Kwaliteitsplan%202024.pdf"
        );
        let d = content_disposition("..\\..\\evil\"\r\nX: y.docx", DocumentKind::Docx);
        assert!(!d.contains('\r') && !d.contains('\n') && !d.contains("\\"), "{d}");
        assert!(d.starts_with("attachment; filename=\"evil___X__y.docx\""), "{d}");
        assert_eq!(
            content_disposition("", DocumentKind::Xlsx),
            "attachment; filename=\"kwaliteitsplan.xlsx\"; filename*=UTF-8''kwaliteitsplan.xlsx"
        );
    }
}
