import ApusRESP
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// LOLWUT [VERSION v] [arguments of that version's drawing]: Redis's computer-art command
/// (src/lolwut.c, lolwut5.c, lolwut6.c in Redis 7.2).
///
/// VERSION 5 draws Georg Nees's "Schotter" in Unicode braille, VERSION 6 a city skyline in
/// terminal colours; any other version, and LOLWUT without VERSION, prints only the version line.
///
/// Randomness — what can differ from redis-server and why: both drawings take values from C's
/// `rand()`, which Redis seeds once at start-up with `time ^ pid ^ microseconds` and which other
/// commands consume too (dict random keys, listpack random picks, HyperLogLog, and `random()`,
/// which shares glibc's state, for skiplist levels). Apus draws from `LibcRandom`, glibc's
/// `rand()` algorithm, seeded at first use the same way but reserved to LOLWUT. So two servers
/// print different pictures, as two Redis processes do; given the same generator state the
/// output is byte-identical to Redis's (the tests replay redis-server's seed-1 output). The same
/// in every process, Redis's and Apus's: the argument errors and clamping, the canvas size and
/// line structure, the trailers, Schotter's first two rows of squares (only rows from the third
/// on are shaken, so a Schotter of at most two rows is fixed, and the top lines of a taller one
/// where the shaken squares don't reach) and a one-row skyline (too low for any building: sky).
public enum Lolwut {
    // MARK: Command

    /// The whole command; `ServerCommands.lolwut` forwards here.
    static func command(_ c: inout CommandContext) {
        guard c.args.count >= 3 && c.args.isToken(1, "version") else {
            return c.reply.verbatim(versionLine())
        }
        guard let version = parseInteger(c.args[2]) else { return c.notInteger() }
        // Redis prints the version as "%u.0.0" of an unsigned int and matches on that text, so
        // only the low 32 bits count: VERSION 4294967301 and VERSION -4294967291 draw version 5.
        switch UInt32(truncatingIfNeeded: version) {
        case 5: schotterCommand(&c, firstArgument: 3)
        case 6: skylineCommand(&c, firstArgument: 3)
        default: c.reply.verbatim(versionLine())
        }
    }

    /// LOLWUT VERSION 5 [columns] [squares per row] [squares per column]; extra arguments are ignored.
    static func schotterCommand(_ c: inout CommandContext, firstArgument i: Int) {
        guard let columns = sizeArgument(&c, i, default: 66, clampedTo: 1...1000),
              let perRow = sizeArgument(&c, i + 1, default: 8, clampedTo: 1...200),
              let perColumn = sizeArgument(&c, i + 2, default: 12, clampedTo: 1...200)
        else { return }
        // Only placing the squares draws random values; rasterizing (up to 2000x399204 pixels)
        // happens outside the lock.
        let schotter = sharedRandom.withLock {
            Schotter(columns: columns, squaresPerRow: perRow, squaresPerColumn: perColumn, random: &$0)
        }
        c.reply.verbatim(schotter.text(version: ServerInfo.redisVersion))
    }

    /// LOLWUT VERSION 6 [columns] [rows]; extra arguments are ignored.
    static func skylineCommand(_ c: inout CommandContext, firstArgument i: Int) {
        guard let columns = sizeArgument(&c, i, default: 80, clampedTo: 1...1000),
              let rows = sizeArgument(&c, i + 1, default: 20, clampedTo: 1...1000)
        else { return }
        // At most 1000x1000 cells, so drawing under the lock stays short.
        let skyline = sharedRandom.withLock { Skyline(columns: columns, rows: rows, random: &$0) }
        c.reply.verbatim(skyline.text(version: ServerInfo.redisVersion))
    }

    /// Argument `index` clamped to `range`, or `fallback` when absent; nil after replying with
    /// Redis's not-an-integer error. Redis clamps silently: huge sizes are not errors.
    private static func sizeArgument(
        _ c: inout CommandContext, _ index: Int, default fallback: Int, clampedTo range: ClosedRange<Int>
    ) -> Int? {
        guard index < c.args.count else { return fallback }
        guard let value = parseInteger(c.args[index]) else {
            c.notInteger()
            return nil
        }
        return min(max(value, range.lowerBound), range.upperBound)
    }

    /// What every version without a drawing prints.
    static func versionLine() -> String { "Redis ver. \(ServerInfo.redisVersion)\n" }

    /// The process's generator for all drawings, seeded at first use like Redis seeds rand()
    /// at start-up.
    static let sharedRandom = Mutex(LibcRandom(seed: LibcRandom.startupSeed()))

    // MARK: Version 5: Schotter

    /// Georg Nees's "Schotter" (1968): a grid of squares, orderly at the top, turning and drifting
    /// more and more towards the bottom. The initializer places the squares (all the randomness
    /// is there); `canvas()` rasterizes them.
    ///
    /// Redis computes the geometry in C `float`, with `double` only inside the square's
    /// trigonometry; the same conversions, in the same order, give the same pixels.
    struct Schotter {
        /// Two pixels per terminal column: a braille cell is 2x4 dots.
        let width: Int
        let height: Int
        let side: Float
        private(set) var squares: [(x: Int, y: Int, angle: Float)] = []

        init(columns: Int, squaresPerRow: Int, squaresPerColumn: Int, random: inout LibcRandom) {
            width = columns * 2
            let padding = width > 4 ? 2 : 0
            side = Float(width - padding * 2) / Float(squaresPerRow)
            height = Int(side * Float(squaresPerColumn) + Float(padding * 2))
            // RAND_MAX as C's (float) cast rounds it: 2^31.
            let randMax = Float(Int32.max)
            squares.reserveCapacity(squaresPerRow * squaresPerColumn)
            for row in 0..<squaresPerColumn {
                for column in 0..<squaresPerRow {
                    var x = Int(Float(column) * side + side / 2 + Float(padding))
                    var y = Int(Float(row) * side + side / 2 + Float(padding))
                    var angle: Float = 0
                    if row > 1 {
                        // Up to row/rows of a radian and of a third of a side, either direction.
                        // Redis draws the three magnitudes first, then the three signs.
                        let share = Float(squaresPerColumn)
                        var turn = Float(random.next()) / randMax / share * Float(row)
                        var driftX = Float(random.next()) / randMax / share * Float(row)
                        var driftY = Float(random.next()) / randMax / share * Float(row)
                        if random.next() % 2 == 1 { turn = -turn }
                        if random.next() % 2 == 1 { driftX = -driftX }
                        if random.next() % 2 == 1 { driftY = -driftY }
                        angle = turn
                        x = Int(Float(x) + driftX * side / 3)
                        y = Int(Float(y) + driftY * side / 3)
                    }
                    squares.append((x, y, angle))
                }
            }
        }

        func canvas() -> BrailleCanvas {
            var canvas = BrailleCanvas(width: width, height: height)
            for square in squares {
                canvas.drawSquare(centerX: square.x, centerY: square.y, side: side, angle: square.angle)
            }
            return canvas
        }

        /// The reply: the drawing, then the credits line.
        func text(version: String) -> String {
            let trailer = "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. \(version)\n"
            return canvas().text(trailer: trailer)
        }
    }

    /// A 1-bit canvas stored directly as braille cells: each byte is a 2x4 block of pixels in
    /// Unicode's dot order (the character is U+2800 + byte). That is 1/8 of Redis's byte per
    /// pixel, which matters for the largest drawing (VERSION 5 1000 1 200: 2000x399204 pixels).
    struct BrailleCanvas {
        let width: Int
        let height: Int
        /// Cells per text line.
        let columns: Int
        private(set) var cells: [UInt8]

        init(width: Int, height: Int) {
            self.width = width
            self.height = height
            columns = (width + 1) / 2
            cells = [UInt8](repeating: 0, count: columns * ((height + 3) / 4))
        }

        /// Braille numbers the dots down the left column (bits 0-2), down the right column
        /// (bits 3-5), then the bottom row left and right (bits 6 and 7).
        @inline(__always)
        private static func dotBit(_ x: Int, _ y: Int) -> UInt8 {
            let dx = x & 1, dy = y & 3
            return 1 << (dy < 3 ? dx * 3 + dy : 6 + dx)
        }

        /// Sets a pixel; coordinates outside the canvas are ignored (squares may stick out).
        mutating func setPixel(_ x: Int, _ y: Int) {
            guard x >= 0, x < width, y >= 0, y < height else { return }
            cells[(y >> 2) * columns + (x >> 1)] |= Self.dotBit(x, y)
        }

        /// Bresenham's line, both ends included.
        mutating func drawLine(_ x1: Int, _ y1: Int, _ x2: Int, _ y2: Int) {
            let dx = abs(x2 - x1), dy = abs(y2 - y1)
            let stepX = x1 < x2 ? 1 : -1, stepY = y1 < y2 ? 1 : -1
            var error = dx - dy
            var x = x1, y = y1
            while true {
                setPixel(x, y)
                if x == x2 && y == y2 { return }
                let doubled = error * 2
                if doubled > -dy {
                    error -= dy
                    x += stepX
                }
                if doubled < dx {
                    error += dx
                    y += stepY
                }
            }
        }

        /// A square of side `side` centred on (centerX, centerY), turned by `angle` radians: its
        /// corners are the points at 45°, 135°, ... (plus the angle) on the circle through them.
        mutating func drawSquare(centerX: Int, centerY: Int, side: Float, angle: Float) {
            // The circumradius side/√2, with Redis's √2 and rounded to whole pixels as Redis does.
            let radius = Double(Float(Double(side) / 1.4142135623).rounded())
            var k = Float(Double.pi / 4 + Double(angle))
            func nextCorner() -> (x: Int, y: Int) {
                defer { k = Float(Double(k) + Double.pi / 2) }
                return (Int((sin(Double(k)) * radius + Double(centerX)).rounded()),
                        Int((cos(Double(k)) * radius + Double(centerY)).rounded()))
            }
            let a = nextCorner(), b = nextCorner(), c = nextCorner(), d = nextCorner()
            drawLine(a.x, a.y, b.x, b.y)
            drawLine(b.x, b.y, c.x, c.y)
            drawLine(c.x, c.y, d.x, d.y)
            drawLine(d.x, d.y, a.x, a.y)
        }

        /// One text line per four pixel rows, `columns` braille characters each, then `trailer`.
        /// Like Redis, a line break follows every line except one that starts on the last pixel
        /// row (height % 4 == 1), so most drawings end with an empty line before the trailer.
        func text(trailer: String) -> String {
            let lines = cells.count / max(columns, 1)
            let capacity = lines * (columns * 3 + 1) + trailer.utf8.count
            return String(unsafeUninitializedCapacity: capacity) { out in
                var n = 0
                for line in 0..<lines {
                    for cell in cells[(line * columns)..<((line + 1) * columns)] {
                        // U+2800...U+28FF in UTF-8: 1110_0010 10_1000xx 10_xxxxxx.
                        out[n] = 0xE2
                        out[n + 1] = 0xA0 | (cell >> 6)
                        out[n + 2] = 0x80 | (cell & 0x3F)
                        n += 3
                    }
                    if line * 4 != height - 1 {
                        out[n] = 0x0A
                        n += 1
                    }
                }
                for byte in trailer.utf8 {
                    out[n] = byte
                    n += 1
                }
                return n
            }
        }
    }

    // MARK: Version 6: skyline

    /// A city skyline after the parallax backgrounds of 8-bit games (Redis credits Plaguemon):
    /// two rows of gray buildings behind black ones with lit windows, under a white sky. One
    /// terminal cell per pixel, in the four grays of a colour terminal.
    struct Skyline {
        let width: Int
        let height: Int
        /// 0 black, 1 dark gray, 2 light gray, 3 white.
        private(set) var pixels: [UInt8]

        init(columns: Int, rows: Int, random: inout LibcRandom) {
            width = columns
            height = rows
            pixels = [UInt8](repeating: 3, count: columns * rows)
            // Background without windows: the light gray pass first, so the darker buildings
            // stand in front of it.
            for color: UInt8 in [2, 1] {
                var offset = -10
                while offset < width {
                    offset += random.next() % 8
                    let buildingWidth = 10 + random.next() % 9
                    let buildingHeight = color == 2
                        ? height / 2 + (random.next() % height) / 2
                        : height / 2 + (random.next() % height) / 3
                    addSkyscraper(left: offset, width: buildingWidth, height: buildingHeight, color: color,
                                  windows: false, random: &random)
                    offset += color == 2 ? buildingWidth / 2 : buildingWidth + 1
                }
            }
            // Foreground: black buildings with windows.
            var offset = -10
            while offset < width {
                offset += random.next() % 8
                var buildingWidth = 5 + random.next() % 14
                if buildingWidth % 4 != 0 { buildingWidth += buildingWidth % 3 }
                let buildingHeight = height / 3 + (random.next() % height) / 2
                addSkyscraper(left: offset, width: buildingWidth, height: buildingHeight, color: 0,
                              windows: true, random: &random)
                offset += buildingWidth + 5
            }
        }

        /// The colour at (x, y); outside the canvas reads as black, as in Redis (a window cut
        /// by the left edge takes it).
        func pixel(_ x: Int, _ y: Int) -> UInt8 {
            guard x >= 0, x < width, y >= 0, y < height else { return 0 }
            return pixels[y * width + x]
        }

        private mutating func setPixel(_ x: Int, _ y: Int, _ color: UInt8) {
            guard x >= 0, x < width, y >= 0, y < height else { return }
            pixels[y * width + x] = color
        }

        /// A building standing on the bottom row, its roof two pixels narrower on each side.
        /// Windows are two pixels wide and one tall (terminal cells are tall), on every other
        /// row and pair of columns away from the walls, each lit in one of the two grays.
        private mutating func addSkyscraper(
            left: Int, width buildingWidth: Int, height buildingHeight: Int, color: UInt8, windows: Bool,
            random: inout LibcRandom
        ) {
            let bottom = height - 1
            let top = bottom - buildingHeight + 1
            let right = left + buildingWidth - 1
            for y in stride(from: bottom, through: top, by: -1) {
                for x in left...right {
                    if y == top && (x <= left + 1 || x >= right - 1) { continue }
                    var pixelColor = color
                    if windows && x > left + 1 && x < right - 1 && y > top + 1 && y < bottom - 1 {
                        let windowX = x - (left + 1), windowY = y - (top + 1)
                        if (windowX / 2) % 2 == 1 && windowY % 2 == 1 {
                            repeat {
                                pixelColor = UInt8(1 + random.next() % 2)
                            } while pixelColor == color
                            // The right half repeats the left half's colour; Redis still draws
                            // a value for it, so the sequence of values stays the same.
                            if windowX % 2 == 1 { pixelColor = pixel(x - 1, y) }
                        }
                    }
                    setPixel(x, y, pixelColor)
                }
            }
        }

        /// Each pixel is a space with foreground and background set to its gray (both, so
        /// terminals agree), then reset; lines are separated by line breaks, then `trailer`.
        func text(version: String) -> String {
            let trailer = "\nDedicated to the 8 bit game developers of past and present.\n"
                + "Original 8 bit image from Plaguemon by hikikomori. Redis ver. \(version)\n"
            let capacity = pixels.count * Self.longestCell + height + trailer.utf8.count
            return String(unsafeUninitializedCapacity: capacity) { out in
                var n = 0
                func append(_ bytes: [UInt8]) {
                    for byte in bytes {
                        out[n] = byte
                        n += 1
                    }
                }
                for y in 0..<height {
                    for color in pixels[(y * width)..<((y + 1) * width)] {
                        append(Self.cells[Int(color & 3)])
                    }
                    if y != height - 1 {
                        out[n] = 0x0A
                        n += 1
                    }
                }
                append(Array(trailer.utf8))
                return n
            }
        }

        /// ESC[<fg;bg>m, a space, ESC[0m for black, dark gray, light gray, white.
        private static let cells: [[UInt8]] = ["0;30;40m", "0;90;100m", "0;37;47m", "0;97;107m"].map {
            Array("\u{1B}[\($0) \u{1B}[0m".utf8)
        }
        private static let longestCell = cells.map(\.count).max()!
    }

    // MARK: rand()

    /// glibc's `rand()`: the additive feedback generator r[i] = r[i-3] + r[i-31] (mod 2^32),
    /// returning r[i] >> 1, with 31 words of state filled from the seed by the Park-Miller
    /// generator and the first 310 values thrown away. Bit-for-bit what Redis's drawings get
    /// on glibc systems from the same seed.
    struct LibcRandom: Sendable {
        private var state: [UInt32]
        private var front = 3
        private var rear = 0

        init(seed: UInt32) {
            // glibc treats seed 0 as 1 and works on the seed as a signed 32-bit word.
            var word = Int(Int32(bitPattern: seed == 0 ? 1 : seed))
            state = [UInt32](repeating: 0, count: 31)
            state[0] = UInt32(truncatingIfNeeded: word)
            for i in 1..<31 {
                // 16807 * word mod (2^31 - 1), in Schrage's overflow-free form as glibc has it.
                word = 16807 * (word % 127773) - 2836 * (word / 127773)
                if word < 0 { word += 2147483647 }
                state[i] = UInt32(truncatingIfNeeded: word)
            }
            for _ in 0..<310 { _ = next() }
        }

        /// The next value in 0...RAND_MAX (2^31 - 1).
        mutating func next() -> Int {
            state[front] &+= state[rear]
            let value = Int(state[front] >> 1)
            front = front == 30 ? 0 : front + 1
            rear = rear == 30 ? 0 : rear + 1
            return value
        }

        /// Redis's start-up seed: `time(NULL) ^ getpid() ^ tv_usec`.
        static func startupSeed() -> UInt32 {
            var now = timeval()
            gettimeofday(&now, nil)
            return UInt32(truncatingIfNeeded: Int(now.tv_sec) ^ Int(getpid()) ^ Int(now.tv_usec))
        }
    }
}
