from cuenode.cli import main

main()
