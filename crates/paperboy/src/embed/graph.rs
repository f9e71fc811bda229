//! The int8 all-MiniLM-L6-v2 export, rewritten so that ONNX Runtime multiplies in int8.
//!
//! The export keeps each weight matrix as int8 with one float scale per column (per row for the
//! embedding tables) and dequantises it in the graph (`Cast`, then `Mul`). ONNX Runtime folds
//! those into fp32 constants when it loads the model, so every product ran in fp32 and the
//! word-embedding table alone took 47 MB. [`rewrite`] changes the graph before ONNX Runtime
//! sees it:
//!
//! - Each projection, `MatMul(x, dequantised W)` and the `Add` of its bias, becomes one
//!   `DynamicQuantizeMatMul` (ONNX Runtime's `com.microsoft` domain): `x` is quantised to uint8
//!   per call and multiplied with the int8 weights by MLAS's VNNI/AMX kernels. The
//!   down-projections of the first [`FLOAT_DOWN_PROJECTIONS`] layers stay fp32: their input is
//!   GELU's output, whose range quantises worst, and leaving those two in fp32 raised the
//!   lowest cosine to PyTorch fp32 from 0.989 to 0.994 (BENCHMARKS.md).
//! - An embedding lookup gathers int8 rows and their scales and dequantises only those rows.
//! - GELU's five elementwise nodes (`Div`, `Erf`, `Add`, `Mul`, `Mul`) become one `Gelu`.
//! - The exporter's NaN guard after each softmax (`IsNaN`, then `Where`) goes: the attention
//!   mask adds the float minimum, not -inf, so the softmax cannot give NaN, and the guard cost
//!   a fifth of each call (two passes over every attention matrix).
//!
//! A node that does not match a pattern exactly is left as it is, so another export still runs,
//! as it was exported.

use std::collections::{HashMap, HashSet};

use anyhow::Context as _;
use onnx_protobuf::{
    AttributeProto, Message as _, ModelProto, NodeProto, TensorProto, ValueInfoProto,
};

/// Down-projections (the feed-forward output `MatMul`, whose input is 4x wider than its
/// output) that keep fp32 activations, counted from the first layer.
pub const FLOAT_DOWN_PROJECTIONS: usize = 2;

/// ONNX's element type codes (`TensorProto.DataType`).
const FLOAT: i32 = 1;
const INT8: i32 = 3;
const MICROSOFT: &str = "com.microsoft";

/// What [`rewrite`] changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Rewrites {
    /// Projections that now multiply in int8.
    pub int8_products: usize,
    /// Projections left in fp32 on purpose ([`FLOAT_DOWN_PROJECTIONS`]).
    pub float_products: usize,
    pub int8_lookups: usize,
    pub gelus: usize,
    pub nan_guards: usize,
}

impl Rewrites {
    pub fn any(&self) -> bool {
        self.int8_products + self.int8_lookups + self.gelus + self.nan_guards > 0
    }
}

/// Rewrites the serialised model `bytes` (see the module's text); returns the new model and
/// what changed.
pub fn rewrite(bytes: &[u8]) -> anyhow::Result<(Vec<u8>, Rewrites)> {
    let mut model = ModelProto::parse_from_bytes(bytes).context("parsing the ONNX model")?;
    let rewrites = rewrite_model(&mut model);
    if !rewrites.any() {
        return Ok((bytes.to_vec(), rewrites));
    }
    let bytes = model
        .write_to_bytes()
        .context("serialising the rewritten ONNX model")?;
    Ok((bytes, rewrites))
}

fn rewrite_model(model: &mut ModelProto) -> Rewrites {
    let Some(graph) = model.graph.as_mut() else {
        return Rewrites::default();
    };
    let plan = Plan::new(&graph.node, &graph.initializer, &graph.output);
    let mut rewrites = Rewrites::default();
    let mut out = Vec::with_capacity(graph.node.len());
    let mut dropped = vec![false; graph.node.len()];
    let mut renamed: HashMap<String, String> = HashMap::new();
    let mut new_initializers = Vec::new();
    let mut down_projections = 0;
    for (at, node) in graph.node.iter().enumerate() {
        if dropped[at] {
            continue;
        }
        match node.op_type.as_str() {
            "MatMul" if node.domain.is_empty() => {
                if let Some(w) = plan.dequantised_matrix(node) {
                    if w.rows > w.cols {
                        down_projections += 1;
                        if down_projections <= FLOAT_DOWN_PROJECTIONS {
                            rewrites.float_products += 1;
                            out.push(node.clone());
                            continue;
                        }
                    }
                    let scale = format!("{}.per_column", w.scale.name);
                    if !new_initializers
                        .iter()
                        .any(|t: &TensorProto| t.name == scale)
                    {
                        let mut per_column = w.scale.clone();
                        per_column.name.clone_from(&scale);
                        per_column.dims = vec![w.cols];
                        new_initializers.push(per_column);
                    }
                    let mut inputs = vec![node.input[0].clone(), w.quantised.to_owned(), scale];
                    let mut output = node.output[0].clone();
                    if let Some((add, bias)) = plan.bias_of(&node.output[0], w.cols) {
                        inputs.extend([String::new(), bias.to_owned()]);
                        output.clone_from(&graph.node[add].output[0]);
                        dropped[add] = true;
                    }
                    out.push(new_node(
                        "DynamicQuantizeMatMul",
                        MICROSOFT,
                        &node.name,
                        inputs,
                        vec![output],
                        Vec::new(),
                    ));
                    rewrites.int8_products += 1;
                    continue;
                }
            }
            "Gather" if node.domain.is_empty() && axis(node) == 0 => {
                if let Some(table) = plan.dequantised_table(node) {
                    let name = &node.name;
                    let rows = format!("{name}.int8_rows");
                    let scales = format!("{name}.row_scales");
                    let floats = format!("{name}.float_rows");
                    let ids = node.input[1].clone();
                    out.push(new_node(
                        "Gather",
                        "",
                        &format!("{name}.rows"),
                        vec![table.quantised.to_owned(), ids.clone()],
                        vec![rows.clone()],
                        Vec::new(),
                    ));
                    out.push(new_node(
                        "Gather",
                        "",
                        &format!("{name}.scales"),
                        vec![table.scale.name.clone(), ids],
                        vec![scales.clone()],
                        Vec::new(),
                    ));
                    out.push(new_node(
                        "Cast",
                        "",
                        &format!("{name}.cast"),
                        vec![rows],
                        vec![floats.clone()],
                        vec![int_attribute("to", i64::from(FLOAT))],
                    ));
                    out.push(new_node(
                        "Mul",
                        "",
                        &format!("{name}.dequantise"),
                        vec![floats, scales],
                        node.output.clone(),
                        Vec::new(),
                    ));
                    rewrites.int8_lookups += 1;
                    continue;
                }
            }
            "Div" if node.domain.is_empty() => {
                if let Some(chain) = plan.gelu(at) {
                    for &n in &chain[1..] {
                        dropped[n] = true;
                    }
                    let last = &graph.node[chain[4]];
                    out.push(new_node(
                        "Gelu",
                        MICROSOFT,
                        &node.name,
                        vec![node.input[0].clone()],
                        last.output.clone(),
                        Vec::new(),
                    ));
                    rewrites.gelus += 1;
                    continue;
                }
            }
            "IsNaN" if node.domain.is_empty() => {
                if let Some(guard) = plan.nan_guard(at) {
                    dropped[guard] = true;
                    renamed.insert(graph.node[guard].output[0].clone(), node.input[0].clone());
                    rewrites.nan_guards += 1;
                    continue;
                }
            }
            _ => {}
        }
        out.push(node.clone());
    }
    if !rewrites.any() {
        return rewrites;
    }
    for node in &mut out {
        for input in &mut node.input {
            if let Some(to) = renamed.get(input.as_str()) {
                input.clone_from(to);
            }
        }
    }
    graph.initializer.extend(new_initializers);
    let outputs: Vec<String> = graph.output.iter().map(|o| o.name.clone()).collect();
    graph.node = live_nodes(out, &outputs);
    let used: HashSet<&str> = graph
        .node
        .iter()
        .flat_map(|n| n.input.iter().map(String::as_str))
        .chain(outputs.iter().map(String::as_str))
        .collect();
    let initializers = std::mem::take(&mut graph.initializer);
    graph.initializer = initializers
        .into_iter()
        .filter(|t| used.contains(t.name.as_str()))
        .collect();
    if !model.opset_import.iter().any(|o| o.domain == MICROSOFT) {
        let mut opset = onnx_protobuf::OperatorSetIdProto::new();
        opset.domain = MICROSOFT.to_owned();
        opset.version = 1;
        model.opset_import.push(opset);
    }
    rewrites
}

/// A weight the graph dequantises from an int8 initializer.
struct Dequantised<'a> {
    quantised: &'a str,
    scale: &'a TensorProto,
    rows: i64,
    cols: i64,
}

/// Lookups into the original graph, which the rewrite reads while it writes a new node list.
struct Plan<'a> {
    nodes: &'a [NodeProto],
    initializers: HashMap<&'a str, &'a TensorProto>,
    producer: HashMap<&'a str, usize>,
    consumers: HashMap<&'a str, Vec<usize>>,
    /// The graph's outputs, whose names must stay.
    outputs: HashSet<&'a str>,
}

impl<'a> Plan<'a> {
    fn new(
        nodes: &'a [NodeProto],
        initializers: &'a [TensorProto],
        outputs: &'a [ValueInfoProto],
    ) -> Plan<'a> {
        let mut producer = HashMap::new();
        let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (at, node) in nodes.iter().enumerate() {
            for output in &node.output {
                producer.insert(output.as_str(), at);
            }
            for input in &node.input {
                consumers.entry(input.as_str()).or_default().push(at);
            }
        }
        Plan {
            nodes,
            initializers: initializers.iter().map(|t| (t.name.as_str(), t)).collect(),
            producer,
            consumers,
            outputs: outputs.iter().map(|o| o.name.as_str()).collect(),
        }
    }

    /// The node that alone reads `name`.
    fn only_consumer(&self, name: &str) -> Option<usize> {
        match self.consumers.get(name).map(Vec::as_slice) {
            Some(&[one]) => Some(one),
            _ => None,
        }
    }

    fn produced_by(&self, name: &str, op: &str) -> Option<&'a NodeProto> {
        let node = &self.nodes[*self.producer.get(name)?];
        (node.op_type == op && node.domain.is_empty()).then_some(node)
    }

    /// `name` as `Mul(Cast(int8 initializer), float scale initializer)`.
    fn dequantised(&self, name: &str) -> Option<Dequantised<'a>> {
        let mul = self.produced_by(name, "Mul")?;
        let cast = self.produced_by(mul.input.first()?, "Cast")?;
        if cast.attribute.iter().find(|a| a.name == "to")?.i != i64::from(FLOAT) {
            return None;
        }
        let quantised = self.initializers.get(cast.input.first()?.as_str())?;
        let scale = self.initializers.get(mul.input.get(1)?.as_str())?;
        match (
            quantised.dims.as_slice(),
            quantised.data_type,
            scale.data_type,
        ) {
            (&[rows, cols], INT8, FLOAT) => Some(Dequantised {
                quantised: &quantised.name,
                scale,
                rows,
                cols,
            }),
            _ => None,
        }
    }

    /// The int8 weight of a `MatMul`, where it has one scale per column.
    fn dequantised_matrix(&self, matmul: &NodeProto) -> Option<Dequantised<'a>> {
        let w = self.dequantised(matmul.input.get(1)?)?;
        let per_column = matches!(w.scale.dims.as_slice(), &[1, n] | &[n] if n == w.cols);
        (matmul.input.len() == 2 && per_column).then_some(w)
    }

    /// The int8 table of a `Gather`, where it has one scale per row.
    fn dequantised_table(&self, gather: &NodeProto) -> Option<Dequantised<'a>> {
        let t = self.dequantised(gather.input.first()?)?;
        let per_row = t.scale.dims.as_slice() == [t.rows, 1];
        (gather.input.len() == 2 && per_row).then_some(t)
    }

    /// The `Add` that alone reads a product and adds a bias of `cols` floats: its index and
    /// the bias's name.
    fn bias_of(&self, product: &str, cols: i64) -> Option<(usize, &'a str)> {
        let at = self.only_consumer(product)?;
        let add = &self.nodes[at];
        if add.op_type != "Add" || !add.domain.is_empty() {
            return None;
        }
        let bias = self.initializers.get(self.other_input(at, product)?)?;
        (bias.data_type == FLOAT && bias.dims.as_slice() == [cols]).then_some((at, &bias.name))
    }

    /// The exact-GELU chain starting at the `Div` at `at`:
    /// `Mul(x, Mul(0.5, Add(Erf(Div(x, sqrt 2)), 1)))`, each step read by the next alone;
    /// the indices of its five nodes.
    fn gelu(&self, at: usize) -> Option<[usize; 5]> {
        let div = &self.nodes[at];
        let x = div.input.first()?;
        self.constant(div.input.get(1)?, std::f32::consts::SQRT_2)?;
        let erf = self.next(at, "Erf")?;
        let add = self.next(erf, "Add")?;
        self.constant(self.other_input(add, &self.nodes[erf].output[0])?, 1.0)?;
        let half = self.next(add, "Mul")?;
        self.constant(self.other_input(half, &self.nodes[add].output[0])?, 0.5)?;
        let mul = self.next(half, "Mul")?;
        (self.other_input(mul, &self.nodes[half].output[0])? == x)
            .then_some([at, erf, add, half, mul])
    }

    /// `Where(IsNaN(x), 0, x)` after the `IsNaN` at `at`: the index of the `Where`.
    fn nan_guard(&self, at: usize) -> Option<usize> {
        let is_nan = &self.nodes[at];
        let guard = self.next(at, "Where")?;
        let w = &self.nodes[guard];
        let guards = w.input.len() == 3
            && !self.outputs.contains(w.output[0].as_str())
            && w.input[0] == is_nan.output[0]
            && w.input[2] == is_nan.input[0]
            && self.constant(&w.input[1], 0.0).is_some();
        guards.then_some(guard)
    }

    /// The node of type `op` that alone reads the single output of the node at `at`.
    fn next(&self, at: usize, op: &str) -> Option<usize> {
        let node = &self.nodes[at];
        let [output] = node.output.as_slice() else {
            return None;
        };
        let next = self.only_consumer(output)?;
        let n = &self.nodes[next];
        (n.op_type == op && n.domain.is_empty()).then_some(next)
    }

    /// The input of a two-input node that is not `this`.
    fn other_input(&self, at: usize, this: &str) -> Option<&'a str> {
        match self.nodes[at].input.as_slice() {
            [a, b] if a == this => Some(b),
            [a, b] if b == this => Some(a),
            _ => None,
        }
    }

    /// Some(()) where `name` is a float initializer holding the one value `value`.
    fn constant(&self, name: &str, value: f32) -> Option<()> {
        let t = self.initializers.get(name)?;
        if t.data_type != FLOAT || t.dims.iter().product::<i64>() != 1 {
            return None;
        }
        let got = match (t.float_data.as_slice(), t.raw_data.as_slice()) {
            ([v], _) => *v,
            ([], &[a, b, c, d]) => f32::from_le_bytes([a, b, c, d]),
            _ => return None,
        };
        ((got - value).abs() <= 1e-6 * value.abs().max(1.0)).then_some(())
    }
}

/// The nodes that some graph output depends on, in their order.
fn live_nodes(nodes: Vec<NodeProto>, outputs: &[String]) -> Vec<NodeProto> {
    let mut needed: HashSet<String> = outputs.iter().cloned().collect();
    let mut live = vec![false; nodes.len()];
    for (at, node) in nodes.iter().enumerate().rev() {
        if node.output.iter().any(|o| needed.contains(o)) {
            live[at] = true;
            needed.extend(node.input.iter().filter(|i| !i.is_empty()).cloned());
        }
    }
    nodes
        .into_iter()
        .zip(live)
        .filter_map(|(node, live)| live.then_some(node))
        .collect()
}

fn axis(node: &NodeProto) -> i64 {
    node.attribute
        .iter()
        .find(|a| a.name == "axis")
        .map_or(0, |a| a.i)
}

fn int_attribute(name: &str, value: i64) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.to_owned();
    a.i = value;
    a.type_ = onnx_protobuf::attribute_proto::AttributeType::INT.into();
    a
}

fn new_node(
    op: &str,
    domain: &str,
    name: &str,
    input: Vec<String>,
    output: Vec<String>,
    attribute: Vec<AttributeProto>,
) -> NodeProto {
    let mut node = NodeProto::new();
    node.op_type = op.to_owned();
    node.domain = domain.to_owned();
    node.name = name.to_owned();
    node.input = input;
    node.output = output;
    node.attribute = attribute;
    node
}

#[cfg(test)]
mod tests {
    use onnx_protobuf::GraphProto;

    use super::*;

    fn tensor(name: &str, data_type: i32, dims: &[i64], raw: &[u8]) -> TensorProto {
        let mut t = TensorProto::new();
        t.name = name.to_owned();
        t.data_type = data_type;
        t.dims = dims.to_vec();
        t.raw_data = raw.to_vec();
        t
    }

    fn floats(name: &str, dims: &[i64], values: &[f32]) -> TensorProto {
        let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        tensor(name, FLOAT, dims, &raw)
    }

    fn node(op: &str, input: &[&str], output: &str) -> NodeProto {
        let strings = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect();
        new_node(
            op,
            "",
            output,
            strings(input),
            strings(&[output]),
            Vec::new(),
        )
    }

    fn model(nodes: Vec<NodeProto>, initializers: Vec<TensorProto>, output: &str) -> ModelProto {
        let mut graph = GraphProto::new();
        graph.node = nodes;
        graph.initializer = initializers;
        let mut out = ValueInfoProto::new();
        out.name = output.to_owned();
        graph.output.push(out);
        let mut model = ModelProto::new();
        model.graph = Some(graph).into();
        model
    }

    /// `x @ dequantised W (rows x cols) + bias`, then the exact GELU, then a guarded softmax.
    fn projection(rows: i64, cols: i64) -> ModelProto {
        let n = usize::try_from(rows * cols).unwrap();
        let mut cast = node("Cast", &["w_q"], "w_f");
        cast.attribute.push(int_attribute("to", i64::from(FLOAT)));
        model(
            vec![
                cast,
                node("Mul", &["w_f", "w_scale"], "w"),
                node("MatMul", &["x", "w"], "xw"),
                node("Add", &["xw", "bias"], "h"),
                node("Div", &["h", "sqrt2"], "d"),
                node("Erf", &["d"], "e"),
                node("Add", &["e", "one"], "e1"),
                node("Mul", &["half", "e1"], "g0"),
                node("Mul", &["h", "g0"], "g"),
                node("Softmax", &["g"], "s"),
                node("IsNaN", &["s"], "nan"),
                new_node(
                    "Where",
                    "",
                    "guard",
                    vec!["nan".into(), "zero".into(), "s".into()],
                    vec!["guarded".into()],
                    Vec::new(),
                ),
                node("Identity", &["guarded"], "y"),
            ],
            vec![
                tensor("w_q", INT8, &[rows, cols], &vec![1; n]),
                floats(
                    "w_scale",
                    &[1, cols],
                    &vec![0.5; usize::try_from(cols).unwrap()],
                ),
                floats("bias", &[cols], &vec![0.0; usize::try_from(cols).unwrap()]),
                floats("sqrt2", &[], &[std::f32::consts::SQRT_2]),
                floats("one", &[], &[1.0]),
                floats("half", &[], &[0.5]),
                floats("zero", &[], &[0.0]),
            ],
            "y",
        )
    }

    fn ops(model: &ModelProto) -> Vec<&str> {
        model
            .graph
            .node
            .iter()
            .map(|n| n.op_type.as_str())
            .collect()
    }

    #[test]
    fn a_dequantised_projection_multiplies_in_int8_with_its_bias_gelu_fused_and_no_nan_guard() {
        let mut m = projection(2, 4);
        let rewrites = rewrite_model(&mut m);
        assert_eq!(
            rewrites,
            Rewrites {
                int8_products: 1,
                float_products: 0,
                int8_lookups: 0,
                gelus: 1,
                nan_guards: 1,
            }
        );
        assert_eq!(
            ops(&m),
            ["DynamicQuantizeMatMul", "Gelu", "Softmax", "Identity"]
        );
        let product = &m.graph.node[0];
        assert_eq!(product.domain, MICROSOFT);
        assert_eq!(
            product.input,
            ["x", "w_q", "w_scale.per_column", "", "bias"]
        );
        assert_eq!(product.output, ["h"]);
        assert_eq!(m.graph.node[1].input, ["h"]);
        assert_eq!(m.graph.node[3].input, ["s"]);
        assert_eq!(
            m.graph.output[0].name, "y",
            "the graph's output is untouched"
        );
        let names: Vec<&str> = m
            .graph
            .initializer
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(
            names,
            ["w_q", "bias", "w_scale.per_column"],
            "unused ones are gone"
        );
        assert_eq!(m.graph.initializer[2].dims, [4]);
        assert!(m.opset_import.iter().any(|o| o.domain == MICROSOFT));
    }

    #[test]
    fn a_nan_guard_that_is_the_graph_output_stays() {
        let mut m = projection(2, 4);
        let graph = m.graph.as_mut().unwrap();
        graph.node.pop();
        graph.node.last_mut().unwrap().output = vec!["y".into()];
        let rewrites = rewrite_model(&mut m);
        assert_eq!(rewrites.nan_guards, 0);
        assert_eq!(ops(&m).last(), Some(&"Where"));
    }

    #[test]
    fn the_first_down_projections_stay_in_float() {
        // An up-projection (2 x 8), then down-projections (8 x 2), all read by one `Sum`.
        let mut nodes = Vec::new();
        let mut initializers = Vec::new();
        let mut products = Vec::new();
        for (at, (rows, cols)) in [(2, 8)]
            .into_iter()
            .chain(std::iter::repeat_n((8, 2), FLOAT_DOWN_PROJECTIONS + 1))
            .enumerate()
        {
            let mut cast = node("Cast", &[&format!("q{at}")], &format!("f{at}"));
            cast.attribute.push(int_attribute("to", i64::from(FLOAT)));
            nodes.push(cast);
            let scale = format!("s{at}");
            nodes.push(node("Mul", &[&format!("f{at}"), &scale], &format!("w{at}")));
            nodes.push(node("MatMul", &["x", &format!("w{at}")], &format!("p{at}")));
            initializers.push(tensor(&format!("q{at}"), INT8, &[rows, cols], &[1; 16]));
            initializers.push(floats(&scale, &[1, cols], &[0.5; 8]));
            products.push(format!("p{at}"));
        }
        let products: Vec<&str> = products.iter().map(String::as_str).collect();
        nodes.push(node("Sum", &products, "y"));
        let mut m = model(nodes, initializers, "y");
        let rewrites = rewrite_model(&mut m);
        assert_eq!(
            (rewrites.int8_products, rewrites.float_products),
            (2, FLOAT_DOWN_PROJECTIONS)
        );
        let products: Vec<&str> = m
            .graph
            .node
            .iter()
            .filter(|n| n.op_type.contains("MatMul"))
            .map(|n| n.op_type.as_str())
            .collect();
        let mut want = vec!["DynamicQuantizeMatMul"];
        want.extend(std::iter::repeat_n("MatMul", FLOAT_DOWN_PROJECTIONS));
        want.push("DynamicQuantizeMatMul");
        assert_eq!(products, want);
    }

    #[test]
    fn a_graph_with_nothing_to_rewrite_is_left_as_it_is() {
        let m = model(
            vec![node("MatMul", &["x", "w"], "y")],
            vec![floats("w", &[1, 1], &[2.0])],
            "y",
        );
        let bytes = m.write_to_bytes().unwrap();
        let (out, rewrites) = rewrite(&bytes).unwrap();
        assert_eq!(rewrites, Rewrites::default());
        assert_eq!(out, bytes);
        assert!(rewrite(b"not a model").is_err());
    }
}
