// `sct_dist predict --adapter FILE --input FILE.h5|DIR --output FILE.csv`: per-image top-k
// classes and softmax probabilities of a trained adapter, for the splits of a task file or the
// JPEG/PNG images of a directory. A split with scored classes is ranked and normalised over
// those (--all-classes: over every class). A single-process tool (rank 0 works, the others return).
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "framework/app/command.h"
#include "framework/app/runtime.h"
#include "framework/core/error.h"
#include "framework/core/fs.h"
#include "framework/core/log.h"
#include "framework/data/augment.h"
#include "framework/data/decode.h"
#include "framework/data/loader.h"
#include "framework/data/resize.h"
#include "framework/data/task_file.h"
#include "framework/dist/world.h"
#include "framework/peft/adapter_file.h"

namespace sct::app {
namespace fs = std::filesystem;
namespace {

data::Normalization normalization(const Recipe& r) {
  data::Normalization n;
  for (size_t c = 0; c < 3; ++c) n.mean[c] = float(r.data.mean[c]), n.std[c] = float(r.data.std[c]);
  return n;
}

// A CSV field, quoted when it holds a comma, quote or line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Appends one CSV row per image: source, index, label, then top-k (class, probability).
class CsvRows {
 public:
  explicit CsvRows(int64_t k) : k_(k) {
    text_ = "source,index,label";
    for (int64_t i = 1; i <= k_; ++i) text_ += fmt::format(",class_{},prob_{}", i, i);
    text_ += "\n";
  }
  // `scored` (int64, ascending), when defined: rank and normalise over these classes only.
  void add(const std::string& source, const std::vector<int64_t>& indices, const std::vector<int64_t>& labels,
           const at::Tensor& logits, const at::Tensor& scored = at::Tensor()) {
    const at::Tensor scores = scored.defined() ? logits.index_select(1, scored) : logits;
    const auto top = at::softmax(scores.to(at::kDouble), 1).topk(std::min<int64_t>(k_, scores.size(1)), 1);
    const at::Tensor probs = std::get<0>(top).contiguous();
    at::Tensor classes = std::get<1>(top).contiguous();
    if (scored.defined()) classes = scored.index_select(0, classes.flatten()).view_as(classes);
    for (int64_t i = 0; i < logits.size(0); ++i) {
      text_ += fmt::format("{},{},{}", csv_field(source), indices[size_t(i)], labels[size_t(i)]);
      for (int64_t j = 0; j < classes.size(1); ++j)
        text_ += fmt::format(",{},{:.6g}", classes[i][j].item<int64_t>(), probs[i][j].item<double>());
      text_ += "\n";
    }
  }
  const std::string& text() const { return text_; }

 private:
  int64_t k_;
  std::string text_;
};

// Every split asked for, through the evaluation loader (the pixels training evaluated on).
void predict_task_file(model::ViTImpl& vit, const peft::AdapterFile& a, const PredictOptions& o, CsvRows& rows) {
  auto file = std::make_shared<data::TaskFile>(o.input);
  if (file->num_classes() != a.config.num_classes)
    throw InputError(fmt::format("{} has {} classes, the adapter {} predicts {}", o.input, file->num_classes(), a.path,
                                 a.config.num_classes));
  const std::vector<std::string> splits = o.splits.empty() ? file->split_names() : o.splits;
  at::NoGradGuard no_grad;
  for (const auto& split : splits) {
    const data::SplitInfo& info = file->split(split);
    if (info.height != a.config.image_size || info.width != a.config.image_size)
      throw InputError(fmt::format("{}: split '{}' holds {}x{} images, the adapter {} takes {}x{}", o.input, split,
                                   info.height, info.width, a.path, a.config.image_size, a.config.image_size));
    data::LoaderOptions lo;
    lo.split = split;
    lo.mode = data::LoaderMode::kEval;
    lo.batch_size = o.batch;
    lo.normalization = normalization(a.recipe);
    data::Loader loader(file, lo);
    loader.start_epoch(0);
    // A split scored over some classes (ImageNet-A, -R) is ranked over those, as evaluation does.
    const bool masked = !info.classes.empty() && !o.all_classes;
    const at::Tensor scored = masked ? at::tensor(info.classes, at::kLong) : at::Tensor();
    data::Batch batch;
    while (loader.next(batch)) {
      const at::Tensor labels = batch.labels.contiguous();
      rows.add(split, batch.indices, {labels.data_ptr<int64_t>(), labels.data_ptr<int64_t>() + labels.numel()},
               vit.forward(batch.images), scored);
    }
    log::info("predict", "{}: {} images{}", split, info.count,
              masked ? fmt::format(", ranked over its {} scored classes", info.classes.size()) : std::string());
  }
}

// JPEG and PNG files of a directory in name order, resized to the adapter's image size.
void predict_directory(model::ViTImpl& vit, const peft::AdapterFile& a, const PredictOptions& o, CsvRows& rows) {
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(o.input)) {
    std::string ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (entry.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png"))
      paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  if (paths.empty()) throw InputError(fmt::format("{}: no .jpg, .jpeg or .png images in the directory", o.input));
  const int s = int(a.config.image_size);
  const data::Normalization norm = normalization(a.recipe);
  at::NoGradGuard no_grad;
  for (size_t start = 0; start < paths.size(); start += size_t(o.batch)) {
    const size_t n = std::min(paths.size() - start, size_t(o.batch));
    at::Tensor images = at::empty({int64_t(n), 3, s, s}, at::kFloat);
    for (size_t i = 0; i < n; ++i) {
      data::ImageU8 image = data::to_rgb(data::load_image(paths[start + i]));
      if (image.height != s || image.width != s) image = data::resize_bicubic(image, s, s);
      data::normalize_to_chw(image.pixels.data(), s, s, norm, images.data_ptr<float>() + i * 3 * s * s);
    }
    const at::Tensor logits = vit.forward(images);
    for (size_t i = 0; i < n; ++i)
      rows.add(fs::path(paths[start + i]).filename().string(), {int64_t(start + i)}, {-1}, logits.narrow(0, int64_t(i), 1));
  }
  log::info("predict", "{}: {} images", o.input, paths.size());
}

}  // namespace

int predict_command(Env& env, const CommandLine& line) {
  const PredictOptions& o = line.predict;
  configure_threads(env, 0);
  if (env.world->rank() != 0) return kExitOk;  // a single-process tool
  const peft::AdapterFile adapter = peft::read_adapter(o.adapter);
  model::ViT vit = peft::load_adapted_model(adapter, o.backbone);
  if (!vit->has_head()) throw InputError(fmt::format("{}: the adapter has no classification head", o.adapter));
  if (!fs::exists(o.input)) throw InputError(fmt::format("predict --input {}: no such file or directory", o.input));
  CsvRows rows(o.top_k);
  if (fs::is_directory(o.input)) predict_directory(*vit, adapter, o, rows);
  else predict_task_file(*vit, adapter, o, rows);
  atomic_write(o.output, rows.text());
  log::info("predict", "wrote {}", o.output);
  return kExitOk;
}

}  // namespace sct::app
