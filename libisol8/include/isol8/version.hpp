#pragma once
namespace isol8 {
const char* version();
}
