import CLinearAlgebra
import Foundation

/// Versions of the native libraries fmridyn runs on, for provenance records.
public enum LibraryVersions {
    /// Library name and version string: OpenBLAS's build configuration, FFTW's and zlib's
    /// version strings (looked up in the loaded libraries, so they name what actually runs).
    public static var all: [(name: String, version: String)] {
        var result: [(String, String)] = []
        if let config = openblas_get_config() { result.append(("OpenBLAS", String(cString: config))) }
        // FFTW's version is a C array (not importable as a declaration): read it by symbol.
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "fftw_version") {
            result.append(("FFTW", String(cString: symbol.assumingMemoryBound(to: CChar.self))))
        }
        typealias VersionFunction = @convention(c) () -> UnsafePointer<CChar>?
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "zlibVersion"),
           let version = unsafeBitCast(symbol, to: VersionFunction.self)() {
            result.append(("zlib", String(cString: version)))
        }
        return result
    }
}
