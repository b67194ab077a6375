// Runs one of calltone's GPU kernels on the CPU (emulation.h), for
// tests/gpu_kernels_on_cpu.rs: `driver DIR` reads DIR/call.txt (the kernel's
// name, `grid block shared_bytes`, then `name value` scalars), the kernel's
// arrays from DIR/NAME.bin (activations as f32, already rounded to the
// kernel's type), launches it as the GPU encoder would, and writes each
// output as f32 to DIR/NAME.out.
#include "emulation.h"
#include "kernels.cu"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

// Every block's shared memory in turn (blocks run one at a time).
float scores_all[1 << 16];

static std::string dir;

template <typename V>
static std::vector<V> read(const std::string& name) {
    std::ifstream f(dir + "/" + name + ".bin", std::ios::binary);
    if (!f) {
        std::fprintf(stderr, "no %s.bin\n", name.c_str());
        std::exit(2);
    }
    std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<V> out(bytes.size() / sizeof(V));
    std::memcpy(out.data(), bytes.data(), out.size() * sizeof(V));
    return out;
}

// Every array is allocated at exactly its size, so the address sanitizer
// (tests/gpu_kernels_on_cpu.rs builds with it where it can) sees a read one
// past the end: a vector grown by push_back keeps spare room it would not.
template <typename T>
static std::vector<T> read_as(const std::string& name) {
    const std::vector<float> values = read<float>(name);
    std::vector<T> out(values.size());
    for (size_t i = 0; i < values.size(); i++) out[i] = from_f<T>(values[i]);
    return out;
}

template <typename T>
static void write_out(const std::string& name, const std::vector<T>& values) {
    std::vector<float> f(values.size());
    for (size_t i = 0; i < values.size(); i++) f[i] = to_f(values[i]);
    std::ofstream(dir + "/" + name + ".out", std::ios::binary)
        .write(reinterpret_cast<const char*>(f.data()), f.size() * sizeof(float));
}

template <typename T> struct Kernels;
#define KERNELS_OF(T, NAME)                                         \
    template <> struct Kernels<T> {                                 \
        static constexpr auto embed = &embed_##NAME;                \
        static constexpr auto add_norm = &add_norm_##NAME;          \
        static constexpr auto bias_act = &bias_act_##NAME;          \
        static constexpr auto attention32 = &attention32_##NAME;    \
        static constexpr auto attention64 = &attention64_##NAME;    \
        static constexpr auto pool = &pool_##NAME;                  \
    };
KERNELS_OF(float, f32)
KERNELS_OF(__half, f16)
KERNELS_OF(__nv_bfloat16, bf16)

template <typename T>
static int run(const std::string& kernel, unsigned grid, unsigned block,
               std::map<std::string, double>& s) {
    using K = Kernels<T>;
    const int tokens = int(s["tokens"]), hidden = int(s["hidden"]);
    if (kernel == "embed") {
        auto ids = read<uint32_t>("ids");
        auto tok_seq = read<int32_t>("tok_seq");
        auto seq_start = read<int32_t>("seq_start");
        auto word = read<float>("word"), position = read<float>("position");
        auto token_type = read<float>("token_type");
        auto gamma = read<float>("gamma"), beta = read<float>("beta");
        std::vector<T> out(size_t(tokens) * hidden);
        launch(grid, block, [&] {
            K::embed(ids.data(), tok_seq.data(), seq_start.data(), tokens, word.data(),
                     position.data(), token_type.data(), int(s["position_offset"]),
                     gamma.data(), beta.data(), float(s["eps"]), hidden, out.data());
        });
        write_out("out", out);
    } else if (kernel == "add_norm") {
        auto x = read_as<T>("x");
        auto y = read_as<T>("y");
        auto bias = read<float>("bias"), gamma = read<float>("gamma"), beta = read<float>("beta");
        launch(grid, block, [&] {
            K::add_norm(x.data(), y.data(), bias.data(), tokens, gamma.data(), beta.data(),
                        float(s["eps"]), hidden);
        });
        write_out("x", x);
    } else if (kernel == "bias_act") {
        auto y = read_as<T>("y");
        auto bias = read<float>("bias");
        launch(grid, block, [&] {
            K::bias_act(y.data(), bias.data(), (long long)y.size(), int(s["width"]),
                        int(s["act"]));
        });
        write_out("y", y);
    } else if (kernel == "attention32" || kernel == "attention64") {
        auto qkv = read_as<T>("qkv");
        auto bias = read<float>("bias");
        auto tok_seq = read<int32_t>("tok_seq");
        auto seq_start = read<int32_t>("seq_start");
        std::vector<T> ctx(size_t(tokens) * hidden);
        auto f = kernel == "attention32" ? K::attention32 : K::attention64;
        launch(grid, block, [&] {
            f(qkv.data(), bias.data(), tok_seq.data(), seq_start.data(), tokens, int(s["heads"]),
              float(s["scale"]), int(s["max_len"]), ctx.data());
        });
        write_out("ctx", ctx);
    } else if (kernel == "pool") {
        auto x = read_as<T>("x");
        auto seq_start = read<int32_t>("seq_start");
        const int seqs = int(s["seqs"]);
        std::vector<float> first(size_t(seqs) * hidden), mean(size_t(seqs) * hidden);
        launch(grid, block, [&] {
            K::pool(x.data(), seq_start.data(), seqs, hidden, first.data(), mean.data());
        });
        write_out("first", first);
        write_out("mean", mean);
    } else {
        std::fprintf(stderr, "unknown kernel %s\n", kernel.c_str());
        return 2;
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: driver DIR\n");
        return 2;
    }
    dir = argv[1];
    std::ifstream call(dir + "/call.txt");
    std::string name;
    unsigned grid, block, shared;
    if (!(call >> name >> grid >> block >> shared)) {
        std::fprintf(stderr, "bad call.txt\n");
        return 2;
    }
    if (shared > sizeof(scores_all)) {
        std::fprintf(stderr, "%u bytes of shared memory asked for\n", shared);
        return 2;
    }
    std::map<std::string, double> scalars;
    std::string key;
    double value;
    while (call >> key >> value) scalars[key] = value;
    const auto cut = name.rfind('_');
    const std::string kernel = name.substr(0, cut), type = name.substr(cut + 1);
    if (type == "f32") return run<float>(kernel, grid, block, scalars);
    if (type == "f16") return run<__half>(kernel, grid, block, scalars);
    if (type == "bf16") return run<__nv_bfloat16>(kernel, grid, block, scalars);
    std::fprintf(stderr, "unknown type %s\n", type.c_str());
    return 2;
}
