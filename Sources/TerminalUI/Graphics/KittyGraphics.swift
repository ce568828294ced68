public import LightboxCore

/// The Kitty graphics protocol: RGB pixels, base64 in chunks of 4096 bytes, placed at the
/// cursor over a rectangle of cells, the cursor left where it was (C=1), answers suppressed (q=2).
public enum KittyGraphics {
    /// Transmit-and-display of `picture` as image `id` over `columns` × `rows` cells. `deflate`,
    /// when given and it succeeds, compresses the pixels (RFC 1950, sent with o=z).
    public static func place(_ picture: RGBImage, id: Int, columns: Int, rows: Int,
                             deflate: (([UInt8]) -> [UInt8]?)? = nil) -> [UInt8] {
        let compressed = deflate?(picture.pixels)
        let payload = Base64.encode(compressed ?? picture.pixels)
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + payload.count / 4096 * 16 + 96)
        var offset = 0
        var first = true
        repeat {
            let end = min(offset + 4096, payload.count)
            let more = end < payload.count
            out += [0x1B, 0x5F, 0x47]  // ESC _ G
            if first {
                out += Array("a=T,f=24,\(compressed != nil ? "o=z," : "")s=\(picture.width),v=\(picture.height),c=\(columns),r=\(rows),i=\(id),p=1,C=1,q=2,m=\(more ? 1 : 0)".utf8)
                first = false
            } else {
                out += Array("m=\(more ? 1 : 0)".utf8)
            }
            out.append(0x3B)  // ;
            out += payload[offset..<end]
            out += [0x1B, 0x5C]  // ESC \
            offset = end
        } while offset < payload.count
        return out
    }

    /// Deletes image `id` and its placements (freeing the terminal's memory too).
    public static func delete(id: Int) -> [UInt8] { Array("\u{1B}_Ga=d,d=I,i=\(id),q=2\u{1B}\\".utf8) }

    /// The query a terminal with the protocol answers with "OK" (a 1×1 RGB image, never shown).
    public static let query = "\u{1B}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\"
}

/// Standard base64 (RFC 4648) without line breaks.
public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0x3D, count: (bytes.count + 2) / 3 * 4)
        bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                var i = 0, o = 0
                while i + 3 <= input.count {
                    let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                    output[o] = alphabet[Int(v >> 18)]; output[o + 1] = alphabet[Int(v >> 12 & 63)]
                    output[o + 2] = alphabet[Int(v >> 6 & 63)]; output[o + 3] = alphabet[Int(v & 63)]
                    i += 3; o += 4
                }
                let rest = input.count - i
                if rest > 0 {
                    let v = UInt32(input[i]) << 16 | (rest == 2 ? UInt32(input[i + 1]) << 8 : 0)
                    output[o] = alphabet[Int(v >> 18)]; output[o + 1] = alphabet[Int(v >> 12 & 63)]
                    if rest == 2 { output[o + 2] = alphabet[Int(v >> 6 & 63)] }
                }
            }
        }
        return out
    }
}
