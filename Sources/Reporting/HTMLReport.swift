import Foundation

/// A self-contained HTML page: inline CSS and SVG, no external assets, so it opens offline.
public struct HTMLReport: Sendable {
    public struct Section: Sendable {
        public var id: String, title: String, body: String
        public init(id: String, title: String, body: String) { self.id = id; self.title = title; self.body = body }
    }
    public var title: String
    public var sections: [Section] = []
    public init(title: String) { self.title = title }

    public mutating func add(id: String, title: String, body: String) { sections.append(Section(id: id, title: title, body: body)) }

    /// A two-column key/value table (provenance, data summary).
    public static func table(_ rows: [(String, String)]) -> String {
        "<table>" + rows.map { "<tr><th>\(escapeHTML($0.0))</th><td>\(escapeHTML($0.1))</td></tr>" }.joined() + "</table>"
    }

    public func rendered() -> String {
        let style = """
            body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222}
            h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc}
            svg{display:block;margin:0.5em 0}.axis{stroke:#333}.grid{stroke:#ddd}
            .tick{font-size:11px;fill:#333}.label{font-size:12px;fill:#111}.title{font-size:13px;font-weight:600}
            table{border-collapse:collapse}th,td{text-align:left;padding:2px 10px;border-bottom:1px solid #eee}
            """
        var html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>\(escapeHTML(title))</title><style>\(style)</style></head><body>"
        html += "<h1>\(escapeHTML(title))</h1><nav>" + sections.map { "<a href=\"#\($0.id)\">\(escapeHTML($0.title))</a>" }.joined(separator: " · ") + "</nav>"
        for section in sections { html += "<section id=\"\(section.id)\"><h2>\(escapeHTML(section.title))</h2>\(section.body)</section>" }
        return html + "</body></html>\n"
    }
}
