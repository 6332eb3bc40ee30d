// CONFIG GET pattern matching, with the glob shared by KEYS/SCAN/PSUBSCRIBE.

import ApusRESP

/// Whether a CONFIG GET glob pattern matches a parameter name, case-insensitively
/// (Redis calls `stringmatch(pattern, name, 1)`).
func configNameMatches(pattern: String, name: String) -> Bool {
    var pattern = pattern, name = name
    return pattern.withUTF8 { patternBytes in
        name.withUTF8 { nameBytes in
            globMatch(pattern: UnsafeRawBufferPointer(patternBytes), string: UnsafeRawBufferPointer(nameBytes), ignoreCase: true)
        }
    }
}
