import XCTest
@testable import GymData
import GymTestSupport
@testable import GymSynth

final class CSVTests: XCTestCase {
    func parse(_ s: String) throws -> CSVText { try CSVText.parse(Data(s.utf8), file: "t.csv") }

    func error(_ s: String) -> DataError? {
        do { _ = try parse(s); return nil } catch let e as DataError { return e } catch { XCTFail("\(error)"); return nil }
    }

    func testQuotesCommasNewlinesAndCRLF() throws {
        let t = try parse("a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n2,\"two\nlines\",z\n\n3,,\n")
        XCTAssertEqual(t.header, ["a", "b", "c"])
        XCTAssertEqual(t.rows, [["1", "x, y", "say \"hi\""], ["2", "two\nlines", "z"], ["3", "", ""]])
        XCTAssertEqual(t.lines, [2, 3, 6], "rows start on physical lines; the quoted newline counts")
        // No final newline.
        XCTAssertEqual(try parse("a\n1").rows, [["1"]])
    }

    func testErrorsNameTheLine() {
        XCTAssertEqual(error("a,b\n1,\"open\n2,3\n")?.line, 2)
        XCTAssertTrue(error("a,b\n1,\"open\n2,3\n")!.description.contains("unbalanced quotes"))
        let ragged = error("a,b,c\n1,2,3\n4,5\n")
        XCTAssertEqual(ragged?.line, 3)
        XCTAssertEqual(ragged?.description, "t.csv:3: error: ragged row: 2 fields, the header has 3")
        XCTAssertEqual(error("a,b\n1,\"x\"y\n")?.line, 2)
        XCTAssertTrue(error("")!.description.contains("empty table"))
        XCTAssertTrue(error("\n\n")!.description.contains("empty table"))
        XCTAssertTrue(error("a,b\n")!.description.contains("a header and no data rows"))
        XCTAssertTrue(error("a,a\n1,2\n")!.description.contains("appears twice"))
        XCTAssertTrue(error("a,b\n1,x\"y\n")!.description.contains("quote inside an unquoted field"))
        do { _ = try CSVText.parse(Data([0x61, 0x0a, 0xff, 0xfe, 0x0a]), file: "bin.csv"); XCTFail() } catch let e as DataError {
            XCTAssertTrue(e.description.hasPrefix("bin.csv: error: not a UTF-8"), e.description)
        } catch { XCTFail("\(error)") }
    }

    func testSchemaInferenceAndOverrides() throws {
        var s = ",id,age,city,score\n"
        for i in 0..<60 { s += "\(i),u\(i),\(20 + i % 7),\(["paris", "lyon", "nice"][i % 3]),\(Double(i) * 0.5)\n" }
        let csv = try parse(s)
        let t = try DataTable.build(csv, file: "t.csv")
        XCTAssertEqual(t.schema.map(\.role), [.identifier, .identifier, .numeric, .categorical, .numeric])
        XCTAssertEqual(t.numericNames, ["age", "score"])
        XCTAssertEqual(t.levels, [["lyon", "nice", "paris"]])
        XCTAssertEqual(t.categorical[0][0], 2)
        XCTAssertEqual(t.userCount, 60)
        let o = try DataTable.build(csv, file: "t.csv", roles: ["id": .user, "age": .quasiIdentifier, "score": .identifier])
        XCTAssertEqual(o.numericNames, [])
        XCTAssertEqual(o.categoricalNames, ["age", "city"])
        XCTAssertEqual(o.quasiIdentifiers, ["age"])
        XCTAssertEqual(o.schema[2].reason, "configured")
        XCTAssertEqual(o.userCount, 60)
    }

    func testUsersGroupRows() throws {
        let t = try DataTable.build(try parse("user,x\na,1\nb,2\na,3\nc,4\n"), file: "t.csv", roles: ["user": .user])
        XCTAssertEqual(t.user, [0, 1, 0, 2])
        XCTAssertEqual(t.userCount, 3)
    }

    func testBadValuesNameRowAndColumn() throws {
        func buildError(_ s: String, _ roles: [String: ColumnRole] = [:]) -> String {
            do { _ = try DataTable.build(try parse(s), file: "t.csv", roles: roles); return "" } catch { return "\(error)" }
        }
        XCTAssertEqual(buildError("x,y\n1,2\n3,abc\n", ["y": .numeric]),
                       "t.csv:3: error: column 'y': 'abc' is not a number (the column is numeric)")
        XCTAssertEqual(buildError("x,y\n1,2\n3,nan\n"), "t.csv:3: error: column 'y': 'nan': NaN and infinite values are not allowed")
        XCTAssertEqual(buildError("x,y\n1,inf\n3,4\n"), "t.csv:2: error: column 'y': 'inf': NaN and infinite values are not allowed")
        XCTAssertEqual(buildError("x,y\n1,\n3,4\n", ["y": .numeric]), "t.csv:2: error: column 'y': missing value in a numeric column")
        XCTAssertTrue(buildError("x,y\n1,2\n", ["yy": .numeric]).contains("column 'yy': the configuration names this column but the file has no such column (did you mean 'y'?)"))
        XCTAssertTrue(buildError("x\n1\n", ["x": .identifier]).contains("no numeric or categorical column"))
    }

    func testReadsTheOpenBanditSample() throws {
        let path = try obdSample().appendingPathComponent("random/all/all.csv").path
        let csv = try CSVText.read(path: path)
        XCTAssertEqual(csv.header.count, 90)
        XCTAssertEqual(csv.rows.count, 10_000)
        XCTAssertEqual(csv.header[0], "")
        XCTAssertEqual(csv.header[6], "user_feature_0")
    }
}
