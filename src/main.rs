fn main() {
    std::process::exit(polyops::run(std::env::args_os()));
}
