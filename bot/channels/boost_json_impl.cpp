// Boost.JSON is compiled once, here (header-only use: Boost 1.81 needs no compile definition for
// it): every other file includes only <boost/json.hpp> or its specific headers. Used to read inbound
// webhook bodies (json_read.hpp); everything else keeps nlohmann::json.
#include <boost/json/src.hpp>
