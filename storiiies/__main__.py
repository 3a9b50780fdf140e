from storiiies.cli import main

main()
