import Foundation
import GymAgents
import SwiftProtobuf

/// Writes a frozen policy (PPO, or an offline CQL or BC network) as a standard ONNX graph (opset 17, IR version 8): inputs
/// `observation` (float, batch x observation dimension) and `mask` (bool, batch x actions), output
/// `probabilities` (float, batch x actions), computed as `ExportablePolicy` describes with the
/// standard operators Sub, Mul, Clip, MatMul, Add, Reshape, Gemm, Tanh or Relu, Where, Softmax,
/// Cast, ReduceSum and Div (a greedy policy: ArgMax, Equal and Cast instead of the softmax). The message types come from ONNX's schema (onnx.proto), compiled by
/// swift-protobuf into OnnxSchema*.swift (scripts/generate-onnx-swift.sh).
public enum ONNXExport {
    public static let opset: Int64 = 17
    public static let irVersion: Int64 = 8

    static let float: Int32 = 1, bool: Int32 = 9, int64: Int32 = 7

    static func tensor(_ name: String, _ values: [Double], dims: [Int]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dataType = float
        t.dims = dims.map(Int64.init)
        var raw = Data(capacity: 4 * values.count)
        for v in values { withUnsafeBytes(of: Float(v).bitPattern.littleEndian) { raw.append(contentsOf: $0) } }
        t.rawData = raw
        return t
    }

    static func int64Tensor(_ name: String, _ values: [Int64]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dataType = int64
        t.dims = [Int64(values.count)]
        t.int64Data = values
        return t
    }

    static func valueInfo(_ name: String, type: Int32, dims: [Int?]) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { d in
            var x = Onnx_TensorShapeProto.Dimension()
            if let d { x.dimValue = Int64(d) } else { x.dimParam = "batch" }
            return x
        }
        var tt = Onnx_TypeProto.Tensor()
        tt.elemType = type
        tt.shape = shape
        var ty = Onnx_TypeProto()
        ty.tensorType = tt
        var v = Onnx_ValueInfoProto()
        v.name = name
        v.type = ty
        return v
    }

    static func node(_ op: String, _ inputs: [String], _ output: String, attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = output
        n.input = inputs
        n.output = [output]
        n.attribute = attributes
        return n
    }

    static func intAttribute(_ name: String, _ value: Int64) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = value
        return a
    }

    /// The serialized ModelProto.
    public static func model(_ p: ExportablePolicy, producerVersion: String, docString: String) throws -> Data {
        var g = Onnx_GraphProto()
        g.name = "optima_gym_ppo_policy"
        let D = p.observationDimension, A = p.actionCount
        g.input = [valueInfo("observation", type: float, dims: [nil, D]), valueInfo("mask", type: bool, dims: [nil, A])]
        g.output = [valueInfo("probabilities", type: float, dims: [nil, A])]
        var x = "observation"
        if let n = p.normalization {
            g.initializer += [tensor("obs_mean", n.mean, dims: [D]), tensor("obs_scale", n.scale, dims: [D]),
                              tensor("clip_low", [-n.clip], dims: []), tensor("clip_high", [n.clip], dims: [])]
            g.node += [node("Sub", [x, "obs_mean"], "centred"), node("Mul", ["centred", "obs_scale"], "scaled"),
                       node("Clip", ["scaled", "clip_low", "clip_high"], "normalized")]
            x = "normalized"
        }
        if let f = p.features {
            let W = A * f.featureDimension
            g.initializer += [tensor("feature_matrix", f.matrix, dims: [D, W]), tensor("feature_offset", f.offset, dims: [W]),
                              int64Tensor("feature_rows", [-1, Int64(f.featureDimension)])]
            g.node += [node("MatMul", [x, "feature_matrix"], "features_linear"), node("Add", ["features_linear", "feature_offset"], "features"),
                       node("Reshape", ["features", "feature_rows"], "action_rows")]
            x = "action_rows"
        }
        let widths = p.actor.widths
        var offset = 0
        for l in 0..<(widths.count - 1) {
            let nin = widths[l], nout = widths[l + 1]
            let w = Array(p.parameters[offset..<(offset + nout * nin)]); offset += nout * nin
            let b = Array(p.parameters[offset..<(offset + nout)]); offset += nout
            g.initializer += [tensor("actor_w\(l)", w, dims: [nout, nin]), tensor("actor_b\(l)", b, dims: [nout])]
            g.node.append(node("Gemm", [x, "actor_w\(l)", "actor_b\(l)"], "actor_z\(l)", attributes: [intAttribute("transB", 1)]))
            x = "actor_z\(l)"
            if l < widths.count - 2 {
                g.node.append(node(p.actor.activation == .tanh ? "Tanh" : "Relu", [x], "actor_h\(l)"))
                x = "actor_h\(l)"
            }
        }
        guard offset == p.parameters.count else { throw ExportError(message: "the actor has \(p.parameters.count) parameters, its shape \(offset)") }
        if p.features != nil {
            g.initializer.append(int64Tensor("logit_rows", [-1, Int64(A)]))
            g.node.append(node("Reshape", [x, "logit_rows"], "logits"))
        } else {
            g.node.append(node("Identity", [x], "logits"))
        }
        g.initializer.append(tensor("masked_out", [-Double.infinity], dims: []))
        g.node.append(node("Where", ["mask", "logits", "masked_out"], "masked_logits"))
        if p.greedy {
            // One-hot of the best allowed action; ArgMax keeps the first of equal scores.
            var cast = intAttribute("to", Int64(float))
            cast.name = "to"
            g.initializer.append(int64Tensor("action_index", (0..<Int64(A)).map { $0 }))
            g.node += [node("ArgMax", ["masked_logits"], "best", attributes: [intAttribute("axis", 1), intAttribute("keepdims", 1)]),
                       node("Equal", ["best", "action_index"], "is_best"),
                       node("Cast", ["is_best"], "probabilities", attributes: [cast])]
        } else {
            g.node.append(node("Softmax", ["masked_logits"], p.epsilon > 0 ? "policy" : "probabilities", attributes: [intAttribute("axis", -1)]))
        }
        if p.epsilon > 0 && !p.greedy {
            // The evaluation's exploration: (1 - eps) p + eps / (allowed actions) on allowed ones.
            var cast = intAttribute("to", Int64(float))
            cast.name = "to"
            g.initializer += [int64Tensor("action_axis", [1]), tensor("keep", [1 - p.epsilon], dims: []), tensor("explore", [p.epsilon], dims: [])]
            g.node += [node("Cast", ["mask"], "allowed", attributes: [cast]),
                       node("ReduceSum", ["allowed", "action_axis"], "allowed_count", attributes: [intAttribute("keepdims", 1)]),
                       node("Div", ["allowed", "allowed_count"], "uniform"),
                       node("Mul", ["policy", "keep"], "policy_part"), node("Mul", ["uniform", "explore"], "uniform_part"),
                       node("Add", ["policy_part", "uniform_part"], "probabilities")]
        }
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = opset17
        var m = Onnx_ModelProto()
        m.irVersion = irVersion
        m.opsetImport = [opset]
        m.producerName = "optima-gym"
        m.producerVersion = producerVersion
        m.docString = docString
        m.graph = g
        return try m.serializedData()
    }

    private static let opset17 = opset
}
